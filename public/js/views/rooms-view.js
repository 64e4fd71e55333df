// Room list (sections "Rooms" and "Direct messages") with unread badges, the "create room" form
// (public or private), and the unread count in the page title. Each room is a button whose
// accessible name is the room's name (a DM's: its people), followed for a private room by the
// word "Private" (the lock icon is aria-hidden); the count is read out through aria-describedby.

import { byId, h } from '../lib/dom.js'
import { ApiError } from '../api.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

/** @param {{ store: Store, chat: Chat, onPicked: () => void }} deps */
export function createRoomsView ({ store, chat, onPicked }) {
  const list = byId('room-list', HTMLUListElement)
  const dmList = byId('dm-list', HTMLUListElement)
  const form = byId('create-room-form', HTMLFormElement)
  const input = byId('room-name', HTMLInputElement)
  const privateBox = byId('room-private', HTMLInputElement)
  const error = byId('create-room-error', HTMLParagraphElement)
  const drawerBadge = byId('drawer-badge', HTMLSpanElement)
  /** @type {Map<number, { item: HTMLLIElement, button: HTMLButtonElement, name: HTMLSpanElement, mark: HTMLSpanElement, lock: HTMLSpanElement, badge: HTMLSpanElement, mention: HTMLSpanElement, described: HTMLSpanElement }>} */
  const rows = new Map()

  /** @param {number} id */
  function row (id) {
    let r = rows.get(id)
    if (r) return r
    const name = h('span', { class: 'room-name' })
    const mark = h('span', { class: 'room-hash', 'aria-hidden': 'true' }, '#')
    const lock = h('span', { class: 'room-lock' }, h('span', { 'aria-hidden': 'true' }, '🔒'), h('span', { class: 'visually-hidden' }, ' Private'))
    const badge = h('span', { class: 'badge', 'aria-hidden': 'true' })
    const mention = h('span', { class: 'mention-badge', 'aria-hidden': 'true' })
    const button = h('button', {
      type: 'button',
      class: 'room',
      'data-room-id': id,
      'aria-describedby': `room-unread-${id}`,
      onclick: () => {
        chat.selectRoom(id)
        onPicked()
      }
    }, mark, name, lock, mention, badge)
    const described = h('span', { id: `room-unread-${id}`, class: 'visually-hidden' })
    r = { item: h('li', {}, button, described), button, name, mark, lock, badge, mention, described }
    rows.set(id, r)
    return r
  }

  function render () {
    const current = store.state.currentRoomId
    const ordered = store.roomList()
    // Rooms gone (left, kicked, banned) leave the list.
    for (const [id, r] of rows) {
      if (store.state.rooms.has(id)) continue
      r.item.remove()
      rows.delete(id)
    }
    const placed = { rooms: 0, dms: 0 }
    ordered.forEach((rs) => {
      const r = row(rs.room.id)
      const dm = rs.room.kind === 'dm'
      const target = dm ? dmList : list
      const index = dm ? placed.dms++ : placed.rooms++
      r.name.textContent = store.title(rs.room)
      r.mark.textContent = dm ? '@' : '#'
      r.lock.hidden = rs.room.kind !== 'private'
      r.button.classList.toggle('archived', rs.room.archived)
      r.button.title = rs.room.topic || store.title(rs.room)
      // A muted room shows no unread count, but mentions of us keep their own badge ("@2").
      const count = store.badgeCount(rs)
      r.badge.textContent = count > 99 ? '99+' : String(count)
      r.badge.hidden = count === 0
      r.mention.textContent = `@${rs.mentionCount > 99 ? '99+' : rs.mentionCount}`
      r.mention.hidden = rs.mentionCount === 0
      r.button.classList.toggle('muted-room', Boolean(rs.room.muted))
      r.described.textContent = [count ? `${count} unread` : '', rs.mentionCount ? `${rs.mentionCount} mentioning you` : '', rs.room.muted ? 'muted' : '']
        .filter(Boolean).join(', ')
      r.button.classList.toggle('unread', count > 0)
      if (rs.room.id === current) r.button.setAttribute('aria-current', 'true')
      else r.button.removeAttribute('aria-current')
      if (target.children[index] !== r.item) target.insertBefore(r.item, target.children[index] ?? null)
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
      await chat.createRoom(name, privateBox.checked ? 'private' : 'public')
      input.value = ''
      privateBox.checked = false
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
