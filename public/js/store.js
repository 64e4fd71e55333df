// Client state and a small publish/subscribe so views redraw only what changed.
// Mutations live in chat.js; this module holds data and the few helpers views need.

/** @typedef {import('./types.js').Room} Room */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').OutboxEntry} OutboxEntry */
/** @typedef {import('./types.js').ConnectionState} ConnectionState */

/**
 * rooms: list or unread counts changed · current: another room is shown ·
 * messages: the timeline of a room changed (detail = roomId) · people: online or typing changed ·
 * connection: socket state changed (detail = ms until the next retry, when waiting) ·
 * members: a room's members or roles changed (detail = roomId) ·
 * receipts: who has read how far changed (detail = roomId) · reply: the message being replied to changed ·
 * focus-message: open a message in its room (search hits)
 * @typedef {'rooms' | 'current' | 'messages' | 'people' | 'connection' | 'members' | 'receipts' | 'reply' | 'focus-message'} Topic
 */

/**
 * One row of a room's timeline: a stored message, or an outbox entry not yet acknowledged.
 * @typedef {{ key: string, message: Message, status: 'sent' | 'pending' | 'failed', failure: string | null }} TimelineItem
 */

export function createStore () {
  /** @type {Map<Topic, Set<(detail?: number) => void>>} */
  const listeners = new Map()
  const state = {
    /** @type {User | null} */ me: null,
    /** @type {Map<number, RoomState>} */ rooms: new Map(),
    /** @type {number | null} */ currentRoomId: null,
    /** @type {ConnectionState} */ connection: 'connecting',
    /** @type {Map<string, OutboxEntry>} */ outbox: new Map()
  }

  /** @param {Topic} topic @param {(detail?: number) => void} fn */
  function on (topic, fn) {
    let set = listeners.get(topic)
    if (!set) listeners.set(topic, (set = new Set()))
    set.add(fn)
  }

  /** @param {Topic} topic @param {number} [detail] */
  function emit (topic, detail) {
    for (const fn of listeners.get(topic) ?? []) fn(detail)
  }

  /** @param {Room} room @returns {RoomState} */
  function upsertRoom (room) {
    const existing = state.rooms.get(room.id)
    if (existing) {
      existing.room = { ...existing.room, ...room }
      return existing
    }
    /** @type {RoomState} */
    const created = {
      room,
      unread: room.unreadCount ?? 0,
      lastReadId: room.lastReadId ?? 0,
      messages: null,
      syncedId: 0,
      syncedSeq: 0,
      mentionCount: room.mentionCount ?? 0,
      mentions: new Set(),
      receipts: null,
      hasOlder: false,
      loadingOlder: false,
      online: new Map(),
      typing: new Map()
    }
    state.rooms.set(room.id, created)
    return created
  }

  /**
   * What a room is called: its name, or for a DM (which has none) the other participants' names.
   * @param {Room} room
   */
  function title (room) {
    if (room.kind !== 'dm') return room.name
    const others = (room.members ?? []).filter((m) => m.id !== state.me?.id).map((m) => m.username)
    return others.length ? others.join(', ') : 'Just you'
  }

  /** Rooms sorted by name (DMs by their people), as the server lists them. */
  function roomList () {
    return [...state.rooms.values()].sort((a, b) =>
      title(a.room).localeCompare(title(b.room), undefined, { sensitivity: 'base' }))
  }

  /** @param {number} roomId */
  function removeRoom (roomId) {
    state.rooms.delete(roomId)
    if (state.currentRoomId === roomId) state.currentRoomId = null
  }

  /** @param {number} roomId @returns {TimelineItem[]} */
  function timeline (roomId) {
    const rs = state.rooms.get(roomId)
    /** @type {TimelineItem[]} */
    const items = [...(rs?.messages?.values() ?? [])]
      .sort((a, b) => a.id - b.id)
      .map((message) => ({ key: `m${message.id}`, message, status: 'sent', failure: null }))
    const me = state.me
    if (!me) return items
    for (const entry of state.outbox.values()) {
      if (entry.roomId !== roomId) continue
      items.push({
        key: `c${entry.clientId}`,
        message: {
          id: 0,
          roomId,
          author: { id: me.id, username: me.username },
          body: entry.body,
          attachment: null,
          clientId: entry.clientId,
          createdAt: entry.createdAt,
          seq: 0, // not stored yet
          editedAt: null,
          deletedAt: null,
          replyTo: entry.replyTo ? { id: entry.replyTo.id, author: entry.replyTo.author, excerpt: entry.replyTo.excerpt } : null,
          reactions: [],
          mentions: [],
          pinned: null
        },
        status: entry.failed ? 'failed' : 'pending',
        failure: entry.failed
      })
    }
    return items
  }

  /**
   * The newest message held (what the user can have seen). Not where catch-up starts: a message
   * can be held without everything before it (see `syncedId` in history.js).
   * @param {RoomState} rs
   */
  function newestId (rs) {
    let max = 0
    for (const id of rs.messages?.keys() ?? []) if (id > max) max = id
    return max
  }

  /** What a room's badge counts: nothing for a muted room, except mentions. @param {RoomState} rs */
  const badgeCount = (rs) => rs.room.muted ? 0 : rs.unread
  const totalUnread = () => [...state.rooms.values()].reduce((sum, rs) => sum + badgeCount(rs) + (rs.room.muted ? rs.mentionCount : 0), 0)

  return { state, on, emit, upsertRoom, removeRoom, roomList, title, timeline, newestId, badgeCount, totalUnread }
}

/** @typedef {ReturnType<typeof createStore>} Store */
