// Messages typed but not yet acknowledged. They show at once as pending, are kept in
// localStorage (so a reload or a dropped connection loses nothing) and are sent again with
// the same clientId after a reconnect; the server stores one message per clientId. Sends go out
// paced to the server's rate limit: a reconnect with 100 queued messages sends the allowed burst
// at once and the rest at the allowed rate, and one the server still refuses for its rate waits
// its turn again instead of failing.

import { newClientId } from './lib/ids.js'
import { createPacer, DEFAULT_LIMITS } from './lib/limits.js'

/** @typedef {import('./types.js').OutboxEntry} OutboxEntry */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./socket.js').ChatSocket} ChatSocket */
/** @typedef {import('./lib/limits.js').Limits} Limits */

const ACK_TIMEOUT_MS = 15_000
const storageKey = (/** @type {number} */ userId) => `secure-chat.outbox.${userId}`

/**
 * @param {Store} store
 * @param {ChatSocket} socket
 * @param {number} userId
 */
export function createOutbox (store, socket, userId) {
  const { outbox } = store.state
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  const ackTimers = new Map()
  const pacer = createPacer(DEFAULT_LIMITS)
  /** @type {string[]} clientIds waiting for their turn, oldest first */
  const queue = []
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pumpTimer

  function save () {
    if (outbox.size === 0) localStorage.removeItem(storageKey(userId))
    else localStorage.setItem(storageKey(userId), JSON.stringify([...outbox.values()]))
  }

  /** Sends what is queued, as fast as the limit allows; the rest when a token is free. */
  function pump () {
    clearTimeout(pumpTimer)
    pumpTimer = undefined
    while (queue.length > 0) {
      const entry = outbox.get(/** @type {string} */ (queue[0]))
      if (!entry || entry.failed) {
        queue.shift()
        continue
      }
      if (!socket.isReady()) return // resendAll() queues everything again once the socket is ready
      const wait = pacer.take()
      if (wait > 0) {
        pumpTimer = setTimeout(pump, wait)
        return
      }
      queue.shift()
      transmit(entry)
    }
  }

  /** @param {string} clientId @param {boolean} [first] */
  function schedule (clientId, first = false) {
    const at = queue.indexOf(clientId)
    if (at >= 0) queue.splice(at, 1)
    if (first) queue.unshift(clientId)
    else queue.push(clientId)
    pump()
  }

  /** @param {OutboxEntry} entry */
  function transmit (entry) {
    /** @type {import('./socket.js').Frame} */
    const frame = { type: 'message', roomId: entry.roomId, body: entry.body, clientId: entry.clientId }
    if (entry.replyTo) frame.replyTo = entry.replyTo.id
    const sent = socket.send(frame)
    if (!sent) return // stays pending; resendAll() runs once the socket is ready again
    clearTimeout(ackTimers.get(entry.clientId))
    ackTimers.set(entry.clientId, setTimeout(() => {
      if (!outbox.has(entry.clientId)) return
      fail(entry.clientId, 'Not delivered yet.')
    }, ACK_TIMEOUT_MS))
  }

  /** Restore what a previous page load left unsent. */
  function restore () {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey(userId)) ?? '[]')
      if (Array.isArray(saved)) for (const entry of saved) outbox.set(entry.clientId, { ...entry, failed: null })
    } catch {
      localStorage.removeItem(storageKey(userId))
    }
  }

  /** @param {number} roomId @param {string} body @param {import('./types.js').ReplyRef | null} [replyTo] */
  function enqueue (roomId, body, replyTo = null) {
    /** @type {OutboxEntry} */
    const entry = { clientId: newClientId(), roomId, body, createdAt: new Date().toISOString(), failed: null, replyTo }
    outbox.set(entry.clientId, entry)
    save()
    store.emit('messages', roomId)
    schedule(entry.clientId)
  }

  /** @param {string} clientId */
  function retry (clientId) {
    const entry = outbox.get(clientId)
    if (!entry) return
    entry.failed = null
    store.emit('messages', entry.roomId)
    schedule(clientId)
  }

  /** After (re)connecting and joining: everything still waiting goes out again, same clientIds. */
  function resendAll () {
    queue.length = 0
    for (const entry of outbox.values()) {
      entry.failed = null
      queue.push(entry.clientId)
    }
    pump()
    if (outbox.size > 0) store.emit('messages', store.state.currentRoomId ?? undefined)
  }

  /** The server stored it (ack, broadcast or catch-up): drop the local copy. @param {string} clientId */
  function settle (clientId) {
    if (!outbox.delete(clientId)) return false
    clearTimeout(ackTimers.get(clientId))
    ackTimers.delete(clientId)
    save()
    return true
  }

  /** @param {string} clientId @param {string} reason */
  function fail (clientId, reason) {
    const entry = outbox.get(clientId)
    if (!entry) return
    clearTimeout(ackTimers.get(clientId))
    entry.failed = reason
    store.emit('messages', entry.roomId)
  }

  /**
   * The server refused it for its rate (another tab, an upload, or clocks apart spent the
   * allowance): it goes again first, once a token is free. @param {string} clientId
   */
  function throttled (clientId) {
    if (!outbox.has(clientId)) return
    clearTimeout(ackTimers.get(clientId))
    ackTimers.delete(clientId)
    pacer.drain()
    schedule(clientId, true)
  }

  /** The server's limits, from its `ready` frame. @param {Limits} limits */
  function setLimits (limits) {
    pacer.configure(limits)
  }

  /** @param {string} clientId */
  function discard (clientId) {
    const entry = outbox.get(clientId)
    if (entry && settle(clientId)) store.emit('messages', entry.roomId)
  }

  function stop () {
    for (const timer of ackTimers.values()) clearTimeout(timer)
    ackTimers.clear()
    clearTimeout(pumpTimer)
    queue.length = 0
  }

  return { restore, enqueue, retry, resendAll, settle, fail, throttled, setLimits, discard, stop }
}

/** On logout: what was not sent is not kept on this device. @param {number} userId */
export function forgetOutbox (userId) {
  localStorage.removeItem(storageKey(userId))
}

/** @typedef {ReturnType<typeof createOutbox>} Outbox */
