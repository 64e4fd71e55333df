// Message history over REST: the newest page on entering a room, older pages on scroll-up
// (before=), and catch-up after a reconnect (after=, paged until hasMore is false).
// Messages are merged by id, so a page that overlaps live frames never shows anything twice, and
// each message keeps the copy with the highest `seq` (its latest change), so an edit, delete or
// reaction arriving twice or out of order never goes back in time. After the `after=` pages, the
// catch-up asks for `changes?since=` to apply the edits, deletes and reactions it missed.
//
// `syncedSeq` is to changes what `syncedId` is to messages: every change of the room up to it has
// been applied. It moves on with the newest page (its highest seq: the page is current as of then),
// the changes pages, and live frames while the room is joined and caught up.
//
// Holding a message is not the same as having everything before it: an upload that finishes over
// REST while the socket is down puts a newer message into the room than the client is in sync
// with. So each room keeps `syncedId`, the newest id up to which the client is known to hold every
// message, and catch-up pages forward from there (never from the newest id held). It moves on only
// with history pages (the newest page, catch-up pages) and with live frames that come while the
// room is joined and caught up (the server sends a joined room's messages in order).

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./api.js').Api} Api */

const PAGE = 50
const CATCH_UP_PAGE = 100
const CATCH_UP_MAX_PAGES = 20 // beyond ~2000 missed messages, just show the newest page again
const AROUND_MAX_PAGES = 50 // a search hit further back than ~5000 messages is not opened in place
const CHANGES_PAGE = 200

/**
 * @param {{ store: Store, api: Api, meId: number, settle: (clientId: string) => void,
 *   isJoined: (roomId: number) => boolean }} deps
 *   settle: a stored message answers one of our outbox entries (its ack may have been lost).
 */
export function createHistory ({ store, api, meId, settle, isJoined }) {
  const { state } = store
  /** @type {Set<number>} Rooms caught up on the current connection: their live frames move `syncedId` on. */
  const caughtUp = new Set()
  /** @type {Map<number, number>} roomId → number of the newest catch-up started: only that one may mark the room caught up. */
  const catchUpRuns = new Map()

  /**
   * The one place a message enters a loaded timeline: a copy replaces the one held only when its
   * `seq` is newer (the same or an older change is ignored).
   * @param {RoomState} rs
   * @param {Message} m
   * @returns {'new' | 'changed' | null}
   */
  function put (rs, m) {
    if (!rs.messages) return null
    const held = rs.messages.get(m.id)
    if (held && held.seq >= m.seq) return null
    rs.messages.set(m.id, m)
    return held ? 'changed' : 'new'
  }

  /**
   * Merge messages into a loaded room (pages and `message` frames).
   * @param {RoomState} rs
   * @param {Message[]} messages
   * @returns {Message[]} the ones not seen before
   */
  function merge (rs, messages) {
    const fresh = []
    for (const m of messages) {
      if (m.author.id === meId && m.clientId) settle(m.clientId)
      if (put(rs, m) === 'new') fresh.push(m)
    }
    return fresh
  }

  /**
   * Changed messages (`message_updated` frames, changes pages, the answers of our own edits and
   * reactions). One the timeline does not hold is added only when it is newer than the oldest
   * held: older ones are outside the loaded window and come in their current state when scrolled to.
   * @param {RoomState} rs
   * @param {Message[]} messages
   * @returns {boolean} whether anything shown changed
   */
  function applyChanges (rs, messages) {
    const timeline = rs.messages
    if (!timeline) return false
    let oldest = Infinity
    for (const id of timeline.keys()) if (id < oldest) oldest = id
    let changed = false
    for (const m of messages) {
      if (!timeline.has(m.id) && timeline.size > 0 && m.id < oldest && rs.hasOlder) continue
      if (m.author.id === meId && m.clientId) settle(m.clientId)
      if (put(rs, m)) changed = true
    }
    return changed
  }

  /**
   * A live `message_updated` frame; like `mergeLive`, it proves the room in sync up to its seq
   * only when the room is joined and caught up.
   * @param {RoomState} rs
   * @param {Message} message
   */
  function applyLive (rs, message) {
    const changed = applyChanges(rs, [message])
    if (rs.messages && caughtUp.has(rs.room.id) && isJoined(rs.room.id)) rs.syncedSeq = Math.max(rs.syncedSeq, message.seq)
    return changed
  }

  /**
   * A live `message` frame. It shows like any other message; only when the room is joined and
   * caught up does it also prove that nothing before it is missing.
   * @param {RoomState} rs
   * @param {Message} message
   * @returns {Message[]} the ones not seen before
   */
  function mergeLive (rs, message) {
    const fresh = merge(rs, [message])
    if (rs.messages && caughtUp.has(rs.room.id) && isJoined(rs.room.id)) {
      rs.syncedId = Math.max(rs.syncedId, message.id)
      rs.syncedSeq = Math.max(rs.syncedSeq, message.seq)
    }
    return fresh
  }

  /** The socket dropped: no room is caught up until its next catch-up ends. */
  function disconnected () {
    caughtUp.clear()
  }

  /** @param {Message[]} messages @param {number} fallback */
  const newestOf = (messages, fallback) => messages.reduce((max, m) => Math.max(max, m.id), fallback)
  /** @param {Message[]} messages @param {number} fallback */
  const highestSeq = (messages, fallback) => messages.reduce((max, m) => Math.max(max, m.seq), fallback)

  /** @param {number} roomId @param {boolean} [thenCatchUp] */
  async function loadLatest (roomId, thenCatchUp = true) {
    const rs = state.rooms.get(roomId)
    if (!rs) return
    caughtUp.delete(roomId)
    const page = await api.messages(roomId, { limit: PAGE })
    caughtUp.delete(roomId) // a catch-up on the old timeline may have ended meanwhile
    rs.messages = new Map()
    rs.syncedId = newestOf(page.messages, 0) // the newest page: nothing after it was missing then
    rs.syncedSeq = highestSeq(page.messages, 0) // and every message in it was current then
    rs.hasOlder = page.hasMore
    merge(rs, page.messages)
    store.emit('messages', roomId)
    // Live frames that came while this page was on its way were dropped (no timeline yet), and a
    // message sent between this page and our join would be in neither: ask once more, also when
    // the page was empty (after=0 then means "from the first message").
    if (thenCatchUp && isJoined(roomId)) await catchUp(roomId)
  }

  /** Everything after the newest message we are known to be in sync with. @param {number} roomId */
  async function catchUp (roomId) {
    const rs = state.rooms.get(roomId)
    const timeline = rs?.messages
    if (!rs || !timeline) return
    const run = (catchUpRuns.get(roomId) ?? 0) + 1
    catchUpRuns.set(roomId, run)
    caughtUp.delete(roomId) // live frames until the last page show, but prove nothing
    // The cursor starts at `syncedId` (0 = from the first message), not at the newest id held:
    // messages merged meanwhile (live frames during this catch-up, an upload's REST response
    // while the socket was down) may be newer than a gap. Only the pages move it on.
    let cursor = rs.syncedId
    for (let pages = 0; pages < CATCH_UP_MAX_PAGES; pages++) {
      const page = await api.messages(roomId, { after: cursor, limit: CATCH_UP_PAGE })
      if (rs.messages !== timeline) return // the room was reloaded or went stale meanwhile
      merge(rs, page.messages)
      cursor = newestOf(page.messages, cursor)
      rs.syncedId = Math.max(rs.syncedId, cursor)
      if (!page.hasMore) {
        if (!await catchUpChanges(rs, timeline)) return
        // In sync now, if still joined on the connection this catch-up ran for (a newer catch-up,
        // or a drop in between, leaves that to the next one).
        if (catchUpRuns.get(roomId) === run && isJoined(roomId)) caughtUp.add(roomId)
        store.emit('messages', roomId) // also re-checks "read" once we are back
        return
      }
    }
    await loadLatest(roomId)
  }

  /**
   * Edits, deletes, reactions and pins since `syncedSeq`, paged. False when the room was reloaded
   * meanwhile (the caller stops) or the gap is too long (the newest page is loaded instead).
   * @param {RoomState} rs
   * @param {Map<number, Message>} timeline
   */
  async function catchUpChanges (rs, timeline) {
    const roomId = rs.room.id
    let cursor = rs.syncedSeq
    for (let pages = 0; pages < CATCH_UP_MAX_PAGES; pages++) {
      const page = await api.changes(roomId, cursor, CHANGES_PAGE)
      if (rs.messages !== timeline) return false
      if (applyChanges(rs, page.messages)) store.emit('messages', roomId)
      // Not the answer's lastSeq: a change committed while the page was read could lie below it.
      cursor = highestSeq(page.messages, cursor)
      rs.syncedSeq = Math.max(rs.syncedSeq, cursor)
      if (!page.hasMore) return true
    }
    await loadLatest(roomId)
    return false
  }

  /** The room on screen after (re)joining: load it if we have nothing, else catch up. @param {number} roomId */
  function refresh (roomId) {
    return state.rooms.get(roomId)?.messages ? catchUp(roomId) : loadLatest(roomId)
  }

  /** @param {number} roomId */
  async function loadOlder (roomId) {
    const rs = state.rooms.get(roomId)
    if (!rs?.messages || !rs.hasOlder || rs.loadingOlder) return
    rs.loadingOlder = true
    store.emit('messages', roomId) // shows "Loading earlier messages…"
    try {
      const oldest = Math.min(...rs.messages.keys())
      const page = await api.messages(roomId, { before: oldest, limit: PAGE })
      merge(rs, page.messages)
      rs.hasOlder = page.hasMore
    } finally {
      rs.loadingOlder = false
      store.emit('messages', roomId)
    }
  }

  /**
   * Makes a message of a loaded room part of its timeline (a search hit): the page around it
   * (around=), joined to what is loaded by older pages in between, so the timeline never has a
   * hole. False when it is too far back (or the room was reloaded meanwhile).
   * @param {number} roomId @param {number} messageId
   */
  async function loadAround (roomId, messageId) {
    const rs = state.rooms.get(roomId)
    const timeline = rs?.messages
    if (!rs || !timeline) return false
    if (timeline.has(messageId)) return true
    const page = await api.around(roomId, messageId, PAGE)
    const reach = newestOf(page.messages, 0)
    const oldest = () => Math.min(...(rs.messages?.keys() ?? []))
    for (let pages = 0; rs.messages === timeline && rs.hasOlder && oldest() > reach; pages++) {
      if (pages === AROUND_MAX_PAGES) return false
      const older = await api.messages(roomId, { before: oldest(), limit: CATCH_UP_PAGE })
      if (rs.messages !== timeline) return false
      merge(rs, older.messages)
      rs.hasOlder = older.hasMore
    }
    if (rs.messages !== timeline) return false
    const before = oldest()
    merge(rs, page.messages)
    if (oldest() < before) rs.hasOlder = page.hasMoreBefore
    store.emit('messages', roomId)
    return timeline.has(messageId)
  }

  return { merge, mergeLive, applyChanges, applyLive, disconnected, loadLatest, refresh, loadOlder, loadAround }
}
