// The "Message actions" menu of one message: Reply, Edit, Delete, Add reaction, Pin/Unpin, as a
// keyboard menu (arrows, Home/End, Esc returns focus to the button). "Add reaction" turns it into
// a palette of common emoji. One menu element serves every message; it is built from text nodes.

import { h } from '../lib/dom.js'

/** @typedef {import('../types.js').Message} Message */
/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏']
const RANK = { member: 0, moderator: 1, admin: 2, owner: 3 }

/**
 * What the server lets the caller do with a message (its policy decides; this only hides what it
 * would refuse): moderators and up delete anyone's message and pin; in a DM anyone pins.
 * @param {import('../types.js').RoomState} rs @param {Message} m @param {number} meId
 */
export function allowed (rs, m, meId) {
  const rank = rs.room.myRole ? RANK[rs.room.myRole] : 0
  const own = m.author.id === meId
  const open = !rs.room.archived
  return {
    edit: open && own,
    remove: own || rank >= RANK.moderator,
    pin: open && (rs.room.kind === 'dm' || rank >= RANK.moderator),
    react: open,
    reply: open
  }
}

/**
 * @param {{ store: Store, chat: Chat, onEdit: (m: Message) => void }} deps
 */
export function createMessageMenu ({ store, chat, onEdit }) {
  const menu = h('div', { class: 'msg-menu', role: 'menu', 'aria-label': 'Message actions', hidden: true })
  document.body.append(menu)
  /** @type {HTMLButtonElement | null} */
  let opener = null

  const items = () => /** @type {HTMLButtonElement[]} */ ([...menu.querySelectorAll('button')])

  /** @param {boolean} [refocus] */
  function close (refocus = true) {
    if (menu.hidden) return
    menu.hidden = true
    menu.replaceChildren()
    opener?.setAttribute('aria-expanded', 'false')
    if (refocus && opener?.isConnected) opener.focus()
    opener = null
  }

  /** @param {string} label @param {() => void} run @param {string} [name] */
  const item = (label, run, name) => h('button', {
    type: 'button',
    role: 'menuitem',
    tabindex: '-1',
    'aria-label': name ?? null,
    onclick: () => {
      run()
    }
  }, label)

  function place () {
    if (!opener) return
    const r = opener.getBoundingClientRect()
    menu.style.top = `${Math.min(r.bottom + 4, window.innerHeight - menu.offsetHeight - 8)}px`
    menu.style.left = `${Math.max(8, r.right - menu.offsetWidth)}px`
    items()[0]?.focus()
  }

  /** @param {Message} m @param {HTMLButtonElement} button */
  function open (m, button) {
    if (opener === button) return close()
    close(false)
    const rs = store.state.rooms.get(m.roomId)
    const meId = store.state.me?.id ?? 0
    if (!rs) return
    const may = allowed(rs, m, meId)
    opener = button
    button.setAttribute('aria-expanded', 'true')
    menu.replaceChildren(...[
      may.reply && item('Reply', () => { close(false); chat.setReply(m) }),
      may.edit && item('Edit', () => { close(false); onEdit(m) }),
      may.remove && item('Delete', () => {
        close()
        chat.remove(m)
      }),
      may.react && item('Add reaction', () => palette(m)),
      may.pin && item(m.pinned ? 'Unpin' : 'Pin', () => { close(); chat.togglePin(m) })
    ].filter((x) => x instanceof HTMLButtonElement))
    menu.setAttribute('aria-label', 'Message actions')
    menu.hidden = false
    place()
  }

  /** @param {Message} m */
  function palette (m) {
    menu.setAttribute('aria-label', 'Add reaction')
    menu.replaceChildren(...QUICK_REACTIONS.map((emoji) => item(emoji, () => { close(); chat.react(m, emoji) }, emoji)))
    place()
  }

  menu.addEventListener('keydown', (event) => {
    const list = items()
    const at = list.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement))
    /** @type {Record<string, number>} */
    const moves = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0, End: list.length - 1 }
    if (event.key in moves) {
      event.preventDefault()
      list[(moves[event.key] + list.length) % list.length]?.focus()
    } else if (event.key === 'Escape' || event.key === 'Tab') {
      event.preventDefault()
      close()
    }
  })
  document.addEventListener('pointerdown', (event) => {
    const target = /** @type {Node} */ (event.target)
    if (!menu.hidden && !menu.contains(target) && !opener?.contains(target)) close(false)
  })
  store.on('current', () => close(false))

  return { open, close }
}
