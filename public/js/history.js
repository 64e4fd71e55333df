// Message history over REST: the newest page on entering a room, older pages on scroll-up
// (before=), and catch-up after a reconnect (after=, paged until hasMore is false).
// Messages are merged by id, so a page that overlaps live frames never shows anything twice.

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./api.js').Api} Api */

const PAGE = 50
const CATCH_UP_PAGE = 100
const CATCH_UP_MAX_PAGES = 20 // beyond ~2000 missed messages, just show the newest page again

/**
 * @param {{ store: Store, api: Api, meId: number, settle: (clientId: string) => void,
 *   isJoined: (roomId: number) => boolean }} deps
 *   settle: a stored message answers one of our outbox entries (its ack may have been lost).
 */
export function createHistory ({ store, api, meId, settle, isJoined }) {
  const { state } = store

  /**
   * Merge messages into a loaded room.
   * @param {RoomState} rs
   * @param {Message[]} messages
   * @returns {Message[]} the ones not seen before
   */
  function merge (rs, messages) {
    const fresh = []
    for (const m of messages) {
      if (m.author.id === meId && m.clientId) settle(m.clientId)
      if (!rs.messages || rs.messages.has(m.id)) continue
      rs.messages.set(m.id, m)
      fresh.push(m)
    }
    return fresh
  }

  /** @param {number} roomId @param {boolean} [thenCatchUp] */
  async function loadLatest (roomId, thenCatchUp = true) {
    const rs = state.rooms.get(roomId)
    if (!rs) return
    const page = await api.messages(roomId, { limit: PAGE })
    rs.messages = new Map()
    rs.hasOlder = page.hasMore
    merge(rs, page.messages)
    store.emit('messages', roomId)
    // Live frames that came while this page was on its way were dropped (no timeline yet), and a
    // message sent between this page and our join would be in neither: ask once more, also when
    // the page was empty (after=0 then means "from the first message").
    if (thenCatchUp && isJoined(roomId)) await catchUp(roomId)
  }

  /** Everything after the newest message we hold. @param {number} roomId */
  async function catchUp (roomId) {
    const rs = state.rooms.get(roomId)
    if (!rs?.messages) return
    // The cursor is where we were when catch-up began (0 = nothing held: from the first message),
    // moved on only by the pages. Live frames keep merging into the same map meanwhile; taking
    // the newest id held after each page would jump over the rest of the gap.
    let cursor = store.newestId(rs)
    for (let pages = 0; pages < CATCH_UP_MAX_PAGES; pages++) {
      const page = await api.messages(roomId, { after: cursor, limit: CATCH_UP_PAGE })
      merge(rs, page.messages)
      cursor = page.messages.at(-1)?.id ?? cursor
      if (!page.hasMore) {
        store.emit('messages', roomId) // also re-checks "read" once we are back
        return
      }
    }
    await loadLatest(roomId)
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

  return { merge, loadLatest, refresh, loadOlder }
}
