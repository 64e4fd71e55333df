// The room's menu in its header: "Mute room" / "Unmute room" and "Pinned messages" (a dialog
// listing the room's pins, most recent first, each with a way to jump to it).

import { byId, h } from '../lib/dom.js'
import { formatFull } from '../lib/format.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

/** @param {{ store: Store, chat: Chat, jumpTo: (roomId: number, id: number) => void }} deps */
export function createRoomMenuView ({ store, chat, jumpTo }) {
  const button = h('button', { type: 'button', id: 'room-menu-button', class: 'btn btn-small', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': 'room-menu' }, 'Room menu')
  const mute = h('button', { type: 'button', role: 'menuitem', tabindex: '-1' }, 'Mute room')
  const pinned = h('button', { type: 'button', role: 'menuitem', tabindex: '-1' }, 'Pinned messages')
  const menu = h('div', { id: 'room-menu', class: 'msg-menu room-menu', role: 'menu', 'aria-label': 'Room menu', hidden: true }, mute, pinned)
  byId('room-settings-button', HTMLButtonElement).before(button)
  button.after(menu)

  const pinList = h('ol', { class: 'pin-list', 'aria-label': 'Pinned messages' })
  const pinStatus = h('p', { class: 'muted small', role: 'status' })
  const dialog = h('dialog', { class: 'panel', 'aria-labelledby': 'pins-title' },
    h('h2', { id: 'pins-title' }, 'Pinned messages'), pinStatus, pinList,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Close')))
  document.body.append(dialog)

  const current = () => store.state.currentRoomId === null ? undefined : store.state.rooms.get(store.state.currentRoomId)

  /** @param {boolean} [refocus] */
  function close (refocus = false) {
    menu.hidden = true
    button.setAttribute('aria-expanded', 'false')
    if (refocus) button.focus()
  }

  button.addEventListener('click', () => {
    if (!menu.hidden) return close()
    const rs = current()
    mute.textContent = rs?.room.muted ? 'Unmute room' : 'Mute room'
    menu.hidden = false
    button.setAttribute('aria-expanded', 'true')
    mute.focus()
  })
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' || event.key === 'Tab') {
      event.preventDefault()
      close(true)
    } else if (['ArrowDown', 'ArrowUp'].includes(event.key)) {
      event.preventDefault()
      ;(document.activeElement === mute ? pinned : mute).focus()
    }
  })
  document.addEventListener('pointerdown', (event) => {
    const target = /** @type {Node} */ (event.target)
    if (!menu.hidden && !menu.contains(target) && !button.contains(target)) close()
  })

  mute.addEventListener('click', () => {
    close(true)
    const rs = current()
    if (rs) chat.setMuted(rs.room.id, !rs.room.muted)
  })

  pinned.addEventListener('click', async () => {
    close()
    const rs = current()
    if (!rs) return
    const roomId = rs.room.id
    pinList.replaceChildren()
    pinStatus.textContent = 'Loading…'
    dialog.showModal()
    try {
      const messages = await chat.pins(roomId)
      pinStatus.textContent = messages.length ? '' : 'Nothing is pinned in this room.'
      pinList.replaceChildren(...messages.map((m) => h('li', { class: 'pin' },
        h('p', { class: 'small muted' }, `${m.author.username} · pinned by ${m.pinned?.by.username ?? '?'}${m.pinned ? `, ${formatFull(new Date(m.pinned.at))}` : ''}`),
        h('p', { class: 'pin-body' }, m.body || (m.attachment ? m.attachment.name : '')),
        h('button', { type: 'button', class: 'link-btn', onclick: () => { dialog.close(); jumpTo(roomId, m.id) } }, 'Show in conversation'))))
    } catch (err) {
      pinStatus.textContent = err instanceof Error ? err.message : String(err)
    }
  })

  store.on('current', () => { button.hidden = !current(); close() })
}
