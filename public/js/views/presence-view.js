// Who is online in the room on screen, and who is typing there.

import { byId, h } from '../lib/dom.js'
import { avatar } from './message-item.js'

/** @typedef {import('../store.js').Store} Store */

/** @param {string[]} names */
export function typingText (names) {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return 'Several people are typing…'
}

/** @param {{ store: Store }} deps */
export function createPresenceView ({ store }) {
  const list = byId('online-list', HTMLUListElement)
  const count = byId('online-count', HTMLParagraphElement)
  const typing = byId('typing', HTMLParagraphElement)

  function render () {
    const roomId = store.state.currentRoomId
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    if (!rs) return
    const me = store.state.me
    const people = [...rs.online.values()].sort((a, b) => a.username.localeCompare(b.username))
    list.replaceChildren(...people.map((u) => h('li', { class: 'person' },
      avatar(u.username, 'small'),
      h('span', { class: 'person-name' }, u.username),
      u.id === me?.id ? h('span', { class: 'muted small' }, ' (you)') : null)))
    if (people.length === 0) list.append(h('li', { class: 'muted small' }, store.state.connection === 'online' ? 'Nobody yet' : 'Unknown while offline'))
    count.textContent = people.length ? `${people.length} online` : ''
    typing.textContent = typingText([...rs.typing.values()].map((t) => t.user.username))
  }

  store.on('people', (roomId) => { if (roomId === store.state.currentRoomId) render() })
  store.on('current', render)
  store.on('connection', render)
}
