// Room list with unread badges, the "create room" form, and the unread count in the page title.
// Each room is a button whose accessible name is exactly the room's name; the count is
// aria-hidden and read out through aria-describedby instead.

import { byId, h } from '../lib/dom.js'
import { ApiError } from '../api.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

/** @param {{ store: Store, chat: Chat, onPicked: () => void }} deps */
export function createRoomsView ({ store, chat, onPicked }) {
  const list = byId('room-list', HTMLUListElement)
  const form = byId('create-room-form', HTMLFormElement)
  const input = byId('room-name', HTMLInputElement)
  const error = byId('create-room-error', HTMLParagraphElement)
  const drawerBadge = byId('drawer-badge', HTMLSpanElement)
  /** @type {Map<number, { item: HTMLLIElement, button: HTMLButtonElement, name: HTMLSpanElement, badge: HTMLSpanElement, described: HTMLSpanElement }>} */
  const rows = new Map()

  /** @param {number} id */
  function row (id) {
    let r = rows.get(id)
    if (r) return r
    const name = h('span', { class: 'room-name' })
    const badge = h('span', { class: 'badge', 'aria-hidden': 'true' })
    const button = h('button', {
      type: 'button',
      class: 'room',
      'data-room-id': id,
      'aria-describedby': `room-unread-${id}`,
      onclick: () => {
        chat.selectRoom(id)
        onPicked()
      }
    }, h('span', { class: 'room-hash', 'aria-hidden': 'true' }, '#'), name, badge)
    const described = h('span', { id: `room-unread-${id}`, class: 'visually-hidden' })
    r = { item: h('li', {}, button, described), button, name, badge, described }
    rows.set(id, r)
    return r
  }

  function render () {
    const current = store.state.currentRoomId
    const ordered = store.roomList()
    ordered.forEach((rs, index) => {
      const r = row(rs.room.id)
      r.name.textContent = rs.room.name
      r.button.title = rs.room.topic || rs.room.name
      const count = rs.room.id === current && rs.unread === 0 ? 0 : rs.unread
      r.badge.textContent = count > 99 ? '99+' : String(count)
      r.badge.hidden = count === 0
      r.described.textContent = count ? `${count} unread` : ''
      r.button.classList.toggle('unread', count > 0)
      if (rs.room.id === current) r.button.setAttribute('aria-current', 'true')
      else r.button.removeAttribute('aria-current')
      if (list.children[index] !== r.item) list.insertBefore(r.item, list.children[index] ?? null)
    })
    const total = store.totalUnread()
    document.title = total > 0 ? `(${total}) Secure Chat` : 'Secure Chat'
    drawerBadge.textContent = total > 99 ? '99+' : String(total)
    drawerBadge.hidden = total === 0
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const name = input.value.trim()
    error.textContent = ''
    input.removeAttribute('aria-invalid')
    if (!name) {
      error.textContent = 'Enter a name for the room.'
      input.setAttribute('aria-invalid', 'true')
      input.focus()
      return
    }
    try {
      await chat.createRoom(name)
      input.value = ''
      onPicked()
    } catch (err) {
      const detail = err instanceof ApiError ? err.fieldErrors[0]?.message : undefined
      error.textContent = err instanceof ApiError && err.code === 'room_exists'
        ? 'A room with this name exists already.'
        : detail ?? (err instanceof Error ? err.message : 'Could not create the room.')
      input.setAttribute('aria-invalid', 'true')
      input.focus()
    }
  })

  store.on('rooms', render)
  store.on('current', render)
  return { render }
}
