// "Seen by …" under your newest message in DMs and private rooms: the people (sharing their
// receipts) whose read marker has reached it, from GET receipts and live `receipt` frames.

import { byId, h } from '../lib/dom.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

/** @param {{ store: Store, chat: Chat }} deps */
export function createSeenByView ({ store, chat }) {
  const list = byId('message-list', HTMLOListElement)
  const line = h('p', { class: 'seen-by small muted', 'aria-live': 'polite' })

  function render () {
    const roomId = store.state.currentRoomId
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    const meId = store.state.me?.id
    if (!rs?.messages || !rs.receipts || rs.room.kind === 'public') return line.remove()
    let mine = 0
    for (const m of rs.messages.values()) if (m.author.id === meId && m.id > mine && !m.deletedAt) mine = m.id
    const names = [...rs.receipts.values()].filter((r) => r.user.id !== meId && r.lastReadId >= mine).map((r) => r.user.username)
    const row = mine ? list.querySelector(`li.msg[data-id="${mine}"] .msg-content`) : null
    if (!row || names.length === 0) return line.remove()
    line.textContent = `Seen by ${names.sort().join(', ')}`
    if (line.parentElement !== row) row.append(line)
  }

  store.on('current', () => {
    const roomId = store.state.currentRoomId
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    render()
    if (rs && rs.room.kind !== 'public') chat.loadReceipts(rs.room.id).catch(() => {})
  })
  store.on('messages', (roomId) => { if (roomId === store.state.currentRoomId) render() })
  store.on('receipts', (roomId) => { if (roomId === store.state.currentRoomId) render() })
}
