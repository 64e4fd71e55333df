// The WebSocket to /ws: token in the subprotocol (keeps it out of URLs and logs), heartbeat,
// and reconnects with exponential backoff plus jitter until stop() is called.

/** @typedef {import('./types.js').ConnectionState} ConnectionState */
/** @typedef {Record<string, any> & { type: string }} Frame */

const PING_EVERY_MS = 25_000
const SILENCE_LIMIT_MS = 35_000 // no frame at all (not even a pong) for this long: the link is dead
const MAX_BACKOFF_MS = 30_000
export const CLOSE_UNAUTHORIZED = 4001

/**
 * @param {{
 *   getToken: () => string | null,
 *   onFrame: (frame: Frame) => void,
 *   onState: (state: ConnectionState, retryInMs?: number) => void,
 *   onUnauthorized: () => void,
 *   checkAuth: () => Promise<unknown>,
 * }} options
 *   checkAuth runs after a failed handshake (a refused upgrade looks like any network error),
 *   so an expired token ends in onUnauthorized instead of endless retries.
 */
export function createSocket ({ getToken, onFrame, onState, onUnauthorized, checkAuth }) {
  /** @type {WebSocket | null} */
  let ws = null
  let ready = false
  let stopped = true
  let attempt = 0
  let lastHeard = 0
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let heartbeat

  function open () {
    clearTimeout(retryTimer)
    const token = getToken()
    if (stopped || !token) return
    if (!navigator.onLine) {
      // No network at all: wait for the browser's "online" event instead of failing attempts.
      onState('reconnecting')
      return
    }
    onState(attempt === 0 && !ready ? 'connecting' : 'reconnecting')
    ready = false
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const socket = new WebSocket(`${scheme}//${location.host}/ws`, ['bearer', token])
    ws = socket
    lastHeard = Date.now()
    socket.onmessage = (event) => {
      lastHeard = Date.now()
      let frame
      try { frame = JSON.parse(String(event.data)) } catch { return }
      if (!frame || typeof frame.type !== 'string') return
      if (frame.type === 'ready') {
        ready = true
        attempt = 0
        onState('online')
      }
      if (frame.type !== 'pong') onFrame(frame)
    }
    socket.onclose = (event) => {
      if (socket !== ws) return
      if (event.code === CLOSE_UNAUTHORIZED) {
        stop()
        onUnauthorized()
        return
      }
      const hadHandshake = ready
      abandon()
      if (!hadHandshake) checkAuth().catch(() => {})
      scheduleRetry()
    }
    clearInterval(heartbeat)
    heartbeat = setInterval(() => {
      if (Date.now() - lastHeard > SILENCE_LIMIT_MS) {
        abandon()
        scheduleRetry()
      } else {
        send({ type: 'ping' })
      }
    }, PING_EVERY_MS)
  }

  /** Forget the current socket without waiting for a close handshake that may never come. */
  function abandon () {
    clearInterval(heartbeat)
    const socket = ws
    ws = null
    ready = false
    if (socket) {
      socket.onclose = null
      socket.onmessage = null
      if (socket.readyState <= WebSocket.OPEN) socket.close()
    }
  }

  function scheduleRetry () {
    if (stopped) return
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt)
    const delay = Math.round(base * (0.5 + Math.random() * 0.5)) // jitter: no thundering herd after a restart
    attempt += 1
    onState('reconnecting', delay)
    retryTimer = setTimeout(open, delay)
  }

  function onOffline () {
    if (stopped) return
    abandon()
    scheduleRetry()
  }

  function onOnline () {
    if (!stopped && !ready) reconnectNow()
  }

  function reconnectNow () {
    abandon()
    open()
  }

  /** @param {Frame} frame @returns {boolean} whether it went out on a ready socket */
  function send (frame) {
    if (!ws || !ready || ws.readyState !== WebSocket.OPEN) return false
    ws.send(JSON.stringify(frame))
    return true
  }

  function start () {
    stopped = false
    attempt = 0
    window.addEventListener('offline', onOffline)
    window.addEventListener('online', onOnline)
    open()
  }

  function stop () {
    stopped = true
    clearTimeout(retryTimer)
    window.removeEventListener('offline', onOffline)
    window.removeEventListener('online', onOnline)
    abandon()
  }

  return { start, stop, send, reconnectNow, isReady: () => ready }
}

/** @typedef {ReturnType<typeof createSocket>} ChatSocket */
