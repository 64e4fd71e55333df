// The controller: turns socket frames and REST pages into store changes, and user intents
// (switch room, send, load older, mark read) into frames and requests.

import { createHistory } from './history.js'
import { DEFAULT_LIMITS, readLimits, typingTimers } from './lib/limits.js'
import { createOutbox } from './outbox.js'

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./types.js').Session} Session */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./socket.js').ChatSocket} ChatSocket */
/** @typedef {import('./socket.js').Frame} Frame */

const LAST_ROOM_KEY = 'secure-chat.room'

/**
 * @param {{ store: Store, api: Api, socket: ChatSocket, session: Session,
 *   onLiveMessage: (message: Message, rs: RoomState) => void, onNotice: (text: string) => void }} deps
 */
export function createChat ({ store, api, socket, session, onLiveMessage, onNotice }) {
  const { state } = store
  const me = session.user
  const outbox = createOutbox(store, socket, me.id)
  /** Rooms this connection is subscribed to; cleared when the socket drops. */
  const joined = new Set()
  let connectedBefore = false
  let roomsLoaded = false
  /** @type {Promise<void> | null} */
  let roomsLoading = null
  let stopped = false
  /** @type {Map<number, number>} Reads made while the socket was down (roomId → newest id seen): sent on the next ready. */
  const unsentReads = new Map()
  /** The server's limits (its `ready` frame says them), and the typing timers that follow from them. */
  let limits = DEFAULT_LIMITS
  let typing = typingTimers(limits)
  const messageHistory = createHistory({ store, api, meId: me.id, settle: outbox.settle, isJoined: (id) => joined.has(id) })
  const { merge, mergeLive, applyChanges, applyLive } = messageHistory
  /** @type {import('./types.js').ReplyRef | null} The message the next send answers (composer's "Replying to"). */
  let replyingTo = null

  /** @param {number} roomId */
  function selectRoom (roomId) {
    const rs = state.rooms.get(roomId)
    if (!rs || stopped) return
    state.currentRoomId = roomId
    localStorage.setItem(LAST_ROOM_KEY, String(roomId))
    store.emit('current', roomId)
    if (!rs.messages) messageHistory.loadLatest(roomId).catch(report)
  }

  /**
   * The user sees the newest messages of a room: clear the badge, tell the server (at once, or
   * when the socket is ready again: else the server's count brings the badge back).
   * @param {number} roomId
   */
  function markRead (roomId) {
    const rs = state.rooms.get(roomId)
    if (!rs?.messages) return
    // Read up to where the room is known to be complete: a message held past a gap (an upload
    // that finished while offline) must not mark the gap read before it is shown.
    sendRead(rs, rs.syncedId)
    if (rs.unread !== 0 || rs.mentionCount !== 0) {
      rs.unread = 0
      rs.mentionCount = 0
      rs.mentions.clear()
      store.emit('rooms')
    }
  }

  /** @param {RoomState} rs @param {number} messageId */
  function sendRead (rs, messageId) {
    const roomId = rs.room.id
    if (messageId <= rs.lastReadId) {
      unsentReads.delete(roomId)
    } else if (socket.send({ type: 'read', roomId, messageId })) {
      rs.lastReadId = messageId
      unsentReads.delete(roomId)
    } else {
      unsentReads.set(roomId, messageId)
    }
  }

  async function refreshRooms () {
    const rooms = await api.rooms()
    for (const room of rooms) {
      const rs = store.upsertRoom(room)
      rs.unread = room.unreadCount ?? rs.unread
      rs.mentionCount = room.mentionCount ?? rs.mentionCount
      rs.lastReadId = Math.max(rs.lastReadId, room.lastReadId ?? 0)
    }
    // Rooms lost while the socket was down (a kick, a ban) are no longer listed: they go too.
    const listed = new Set(rooms.map((r) => r.id))
    const lostCurrent = state.currentRoomId !== null && !listed.has(state.currentRoomId)
    for (const id of [...state.rooms.keys()]) if (!listed.has(id)) store.removeRoom(id)
    store.emit('rooms')
    if (lostCurrent) {
      const next = store.roomList().find((r) => r.room.name === 'General') ?? store.roomList()[0]
      if (next) selectRoom(next.room.id)
    }
    return rooms
  }

  /** @param {number} roomId */
  function join (roomId) {
    socket.send({ type: 'join', roomId })
  }

  async function onReady () {
    const reconnect = connectedBefore
    connectedBefore = true
    // Before the rooms are fetched again, so their unread counts already include these reads.
    for (const [roomId, messageId] of unsentReads) {
      const rs = state.rooms.get(roomId)
      if (rs) sendRead(rs, messageId)
      else unsentReads.delete(roomId)
    }
    if (!roomsLoaded) {
      await loadRooms() // still loading, or the first attempt failed (server down at page load)
    } else if (reconnect) {
      // Rooms out of view may have missed anything: reload them when next opened.
      for (const [id, rs] of state.rooms) {
        if (id === state.currentRoomId) continue
        rs.messages = null
        rs.syncedId = 0
      }
      await refreshRooms()
    }
    for (const id of state.rooms.keys()) join(id) // every room, so unread badges stay live
    outbox.resendAll()
  }

  /** First load of the room list (shared by start and the first ready); opens the last room used, else General. */
  function loadRooms () {
    roomsLoading ??= refreshRooms().then((rooms) => {
      roomsLoaded = true
      const remembered = Number(localStorage.getItem(LAST_ROOM_KEY))
      const first = rooms.find((r) => r.id === remembered) ?? rooms.find((r) => r.name === 'General') ?? rooms[0]
      if (first && state.currentRoomId === null) selectRoom(first.id)
    }, (err) => {
      roomsLoading = null
      throw err
    })
    return roomsLoading
  }

  /** @param {Frame} frame */
  function onFrame (frame) {
    switch (frame.type) {
      case 'ready':
        limits = readLimits(frame.limits)
        typing = typingTimers(limits)
        outbox.setLimits(limits)
        onReady().catch(report)
        break
      case 'joined': onJoined(frame.roomId, frame.online); break
      case 'presence': onPresence(frame.roomId, frame.user, frame.status); break
      case 'message': onMessage(frame.message); break
      case 'ack': onAck(frame.clientId, frame.message); break
      case 'message_updated': onUpdated(frame.message); break
      case 'mention': onMention(frame.message); break
      case 'receipt': onReceipt(frame.roomId, frame.user, frame.lastReadId); break
      case 'typing': onTyping(frame.roomId, frame.user, frame.isTyping); break
      case 'room': onRoom(frame.room); break
      case 'room_updated': onRoomUpdated(frame.room); break
      case 'removed': onRemoved(frame.roomId, frame.reason); break
      case 'member': onMember(frame.roomId, frame.userId, frame.member); break
      case 'error': onError(frame.code, frame.message, frame.clientId); break
    }
  }

  /** @param {number} roomId @param {import('./types.js').Author[]} online */
  function onJoined (roomId, online) {
    const rs = state.rooms.get(roomId)
    if (!rs) return
    joined.add(roomId)
    rs.online = new Map((online ?? []).map((u) => [u.id, u]))
    store.emit('people', roomId)
    if (roomId === state.currentRoomId) messageHistory.refresh(roomId).catch(report)
  }

  /** @param {number} roomId @param {import('./types.js').Author} user @param {string} status */
  function onPresence (roomId, user, status) {
    const rs = state.rooms.get(roomId)
    if (!rs || !user) return
    if (status === 'online') rs.online.set(user.id, user)
    else rs.online.delete(user.id)
    store.emit('people', roomId)
  }

  /** @param {Message} message */
  function onMessage (message) {
    const rs = state.rooms.get(message?.roomId)
    if (!rs) return
    const ownMessage = message.author.id === me.id
    const isNew = rs.messages ? mergeLive(rs, message).length > 0 : message.id > rs.lastReadId
    if (rs.typing.delete(message.author.id)) store.emit('people', rs.room.id)
    if (!isNew) return
    if (!ownMessage) {
      rs.unread += 1 // the messages view clears it again at once when the user is looking
      store.emit('rooms')
      onLiveMessage(message, rs)
    }
    store.emit('messages', rs.room.id)
  }

  /** An edit, delete, reaction or pin (applied only when newer than what we hold). @param {Message} message */
  function onUpdated (message) {
    const rs = state.rooms.get(message?.roomId)
    if (!rs) return
    if (message.deletedAt && rs.mentions.delete(message.id)) {
      rs.mentionCount = Math.max(0, rs.mentionCount - 1)
      store.emit('rooms')
    }
    if (applyLive(rs, message)) store.emit('messages', rs.room.id)
  }

  /** Someone named us: its own badge, shown even in a muted room. @param {Message} message */
  function onMention (message) {
    const rs = state.rooms.get(message?.roomId)
    if (!rs || message.author.id === me.id || message.id <= rs.lastReadId || rs.mentions.has(message.id)) return
    rs.mentions.add(message.id)
    rs.mentionCount += 1
    store.emit('rooms')
    // The room on screen and scrolled to the bottom: read at once, like any message there.
    if (rs.room.id === state.currentRoomId) store.emit('messages', rs.room.id)
  }

  /** @param {number} roomId @param {import('./types.js').Author} user @param {number} lastReadId */
  function onReceipt (roomId, user, lastReadId) {
    const rs = state.rooms.get(roomId)
    if (!rs?.receipts || !user) return
    const held = rs.receipts.get(user.id)
    if (held && held.lastReadId >= lastReadId) return
    rs.receipts.set(user.id, { user, lastReadId })
    store.emit('receipts', roomId)
  }

  /** Who has read how far in a DM or private room (the "Seen by" line). @param {number} roomId */
  async function loadReceipts (roomId) {
    const receipts = await api.receipts(roomId)
    const rs = state.rooms.get(roomId)
    if (!rs) return
    rs.receipts = new Map(receipts.map((r) => [r.user.id, { user: r.user, lastReadId: r.lastReadId }]))
    store.emit('receipts', roomId)
  }

  /**
   * Runs one change of a message over REST and shows its answer at once (the frame that follows
   * is then older or the same, and ignored). Failures become a notice.
   * @param {number} roomId @param {() => Promise<Message | void>} change
   */
  async function change (roomId, change) {
    try {
      const message = await change()
      const rs = state.rooms.get(roomId)
      if (message && rs && applyChanges(rs, [message])) store.emit('messages', roomId)
      return true
    } catch (err) {
      report(err)
      return false
    }
  }

  /** @param {Message} m @param {string} body */
  const edit = (m, body) => change(m.roomId, () => api.editMessage(m.roomId, m.id, body))
  /** @param {Message} m */
  const remove = (m) => change(m.roomId, () => api.deleteMessage(m.roomId, m.id))
  /** Toggles our reaction. @param {Message} m @param {string} emoji */
  const react = (m, emoji) => change(m.roomId, () =>
    api.react(m.roomId, m.id, emoji, !m.reactions.some((r) => r.emoji === emoji && r.userIds.includes(me.id))))
  /** @param {Message} m */
  const togglePin = (m) => change(m.roomId, () => api.pin(m.roomId, m.id, !m.pinned))

  /** @param {number} roomId @param {boolean} muted */
  async function setMuted (roomId, muted) {
    try {
      await api.mute(roomId, muted)
    } catch (err) {
      report(err)
      return
    }
    const rs = state.rooms.get(roomId)
    if (rs) rs.room = { ...rs.room, muted }
    store.emit('rooms')
    store.emit('current', roomId)
  }

  /** @param {Message | null} message */
  function setReply (message) {
    replyingTo = message ? { id: message.id, author: message.author, excerpt: message.body.slice(0, 100) } : null
    store.emit('reply')
  }

  /**
   * Makes sure a message of a room is in its timeline, for jumping to it (a reply's parent): the
   * page around it, joined to what is held (history.js loadAround, also used for search hits).
   * @param {number} roomId @param {number} messageId
   * @returns {Promise<boolean>} whether it is held now
   */
  async function reveal (roomId, messageId) {
    try {
      const shown = await messageHistory.loadAround(roomId, messageId)
      if (!shown && state.rooms.get(roomId)?.messages) onNotice('That message is too far back to show here.')
      return shown
    } catch (err) {
      report(err)
      return false
    }
  }

  /** Shown, but no proof of sync: our own `message` frame comes before the ack anyway. @param {string} clientId @param {Message} message */
  function onAck (clientId, message) {
    outbox.settle(clientId)
    const rs = state.rooms.get(message?.roomId)
    if (rs) merge(rs, [message])
    store.emit('messages', message?.roomId)
  }

  /** @param {number} roomId @param {import('./types.js').Author} user @param {boolean} isTyping */
  function onTyping (roomId, user, isTyping) {
    const rs = state.rooms.get(roomId)
    if (!rs || !user || user.id === me.id) return
    if (isTyping) {
      rs.typing.set(user.id, { user, until: Date.now() + typing.shownMs })
      setTimeout(() => expireTyping(rs), typing.shownMs + 50)
    } else {
      rs.typing.delete(user.id)
    }
    store.emit('people', roomId)
  }

  /** @param {RoomState} rs */
  function expireTyping (rs) {
    const now = Date.now()
    let changed = false
    for (const [id, t] of rs.typing) if (t.until <= now) changed = rs.typing.delete(id) || changed
    if (changed) store.emit('people', rs.room.id)
  }

  /** @param {import('./types.js').Room} room */
  function onRoom (room) {
    if (!room || state.rooms.has(room.id)) return
    // Frames carry no caller fields: a room that reaches us this way is one we were just let into.
    const myRole = room.kind !== 'dm' && me.isAdmin ? 'owner' : room.createdBy?.id === me.id && room.kind !== 'dm' ? 'owner' : 'member'
    store.upsertRoom({ ...room, myRole })
    join(room.id)
    store.emit('rooms')
  }

  /** Renamed, a new topic, archived or unarchived. @param {import('./types.js').Room} room */
  function onRoomUpdated (room) {
    const rs = room && state.rooms.get(room.id)
    if (!rs) return
    store.upsertRoom(room) // merged: the caller's own fields (myRole, unread) stay
    store.emit('rooms')
    if (room.id === state.currentRoomId) store.emit('current', room.id)
  }

  /** @type {Record<string, string>} */
  const REMOVED = { kicked: 'You were removed from {room}.', banned: 'You were banned from {room}.', left: 'You left {room}.' }

  /**
   * We lost the room (left, kicked, banned): the server has unsubscribed every socket of ours.
   * It goes from the list; when it was open, another one opens and a plain sentence says why.
   * @param {number} roomId @param {string} reason
   */
  function onRemoved (roomId, reason) {
    const rs = state.rooms.get(roomId)
    if (!rs) return
    const wasCurrent = state.currentRoomId === roomId
    const name = rs.room.kind === 'dm' ? store.title(rs.room) : `#${rs.room.name}`
    joined.delete(roomId)
    store.removeRoom(roomId)
    store.emit('rooms')
    if (wasCurrent) {
      const next = store.roomList().find((r) => r.room.name === 'General') ?? store.roomList()[0]
      if (next) selectRoom(next.room.id)
      else store.emit('current', roomId)
    }
    onNotice((REMOVED[reason] ?? REMOVED.kicked).replace('{room}', name))
  }

  /** @param {number} roomId @param {number} userId @param {import('./types.js').Member | null} member */
  function onMember (roomId, userId, member) {
    const rs = state.rooms.get(roomId)
    if (!rs) return
    if (userId === me.id && member) {
      // Our own role changed (a hand-over, a promotion): what we may do here changes with it.
      rs.room = { ...rs.room, myRole: me.isAdmin && rs.room.kind !== 'dm' ? 'owner' : member.role }
      store.emit('rooms')
      if (roomId === state.currentRoomId) store.emit('current', roomId)
    }
    store.emit('members', roomId)
  }

  /** @param {string} code @param {string} message @param {string} [clientId] */
  function onError (code, message, clientId) {
    if (clientId && state.outbox.has(clientId) && code === 'rate_limited') outbox.throttled(clientId)
    else if (clientId && state.outbox.has(clientId)) outbox.fail(clientId, message || code)
    else onNotice(message || code)
  }

  /** @param {unknown} err */
  function report (err) {
    if (!stopped) onNotice(err instanceof Error ? err.message : String(err))
  }

  /** Called when the socket drops: presence and typing are unknown until we join again. */
  function onDisconnected () {
    joined.clear()
    messageHistory.disconnected() // live frames prove nothing until each room has caught up again
    for (const rs of state.rooms.values()) {
      rs.online.clear()
      rs.typing.clear()
    }
    if (state.currentRoomId !== null) store.emit('people', state.currentRoomId)
  }

  async function start () {
    state.me = me
    outbox.restore()
    socket.start()
    await loadRooms()
  }

  function stop () {
    stopped = true
    outbox.stop()
    socket.stop()
  }

  /** @param {string} name @param {'public' | 'private'} [visibility] */
  async function createRoom (name, visibility = 'public') {
    const room = await api.createRoom(name, visibility)
    store.upsertRoom(room)
    join(room.id)
    store.emit('rooms')
    selectRoom(room.id)
  }

  /** Opens the DM with these people, new or not. @param {number[]} userIds */
  async function openDm (userIds) {
    const room = await api.openDm(userIds)
    store.upsertRoom(room)
    join(room.id)
    store.emit('rooms')
    selectRoom(room.id)
  }

  /**
   * Opens a room at one message (a search hit) and asks the view to show it. False when it
   * cannot be shown in place (too far back in a long room).
   * @param {number} roomId @param {number} messageId
   */
  async function openMessage (roomId, messageId) {
    const rs = state.rooms.get(roomId)
    if (!rs || stopped) return false
    if (!rs.messages) await messageHistory.loadLatest(roomId)
    selectRoom(roomId)
    const shown = await messageHistory.loadAround(roomId, messageId)
    if (shown && state.currentRoomId === roomId) store.emit('focus-message', messageId)
    return shown
  }

  /** @param {string} body */
  function send (body) {
    if (state.currentRoomId === null) return
    const reply = replyingTo && state.rooms.get(state.currentRoomId)?.messages?.has(replyingTo.id) ? replyingTo : null
    outbox.enqueue(state.currentRoomId, body, reply)
    if (replyingTo) setReply(null)
  }

  /** @param {number} roomId @param {boolean} isTyping */
  function sendTyping (roomId, isTyping) {
    socket.send({ type: 'typing', roomId, isTyping })
  }

  /**
   * An upload finished: its message is in the response (the broadcast may come before or after).
   * Shown at once, but it does not move the room's `syncedId`: the socket may have been down, and
   * what others posted before it is then fetched by the next catch-up.
   * @param {Message} message
   */
  function addOwnMessage (message) {
    const rs = state.rooms.get(message.roomId)
    if (rs && merge(rs, [message]).length > 0) store.emit('messages', message.roomId)
  }

  return {
    start, stop, onFrame, onDisconnected, selectRoom, loadOlder: messageHistory.loadOlder, markRead, createRoom, openDm, send, sendTyping,
    addOwnMessage, openMessage, retry: outbox.retry, discard: outbox.discard, typingRepeatMs: () => typing.repeatMs,
    edit, remove, react, togglePin, setMuted, setReply, replyingTo: () => replyingTo, reveal, loadReceipts,
    pins: (/** @type {number} */ roomId) => api.pins(roomId)
  }
}

/** @typedef {ReturnType<typeof createChat>} Chat */
