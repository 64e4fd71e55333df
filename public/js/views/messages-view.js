// The conversation: keyed rendering (existing nodes are kept, so images do not reload), day
// separators, grouping, history on scroll-up without jumps, and "stick to bottom" for live messages.

import { byId, h } from '../lib/dom.js'
import { dayKey, formatDay } from '../lib/format.js'
import { renderMessage } from './message-item.js'
import { createMessageFocus } from './message-focus.js'
import { createMessageMenu } from './message-menu.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../store.js').TimelineItem} TimelineItem */
/** @typedef {import('../chat.js').Chat} Chat */
/** @typedef {import('../types.js').Message} Message */

const GROUP_WINDOW_MS = 5 * 60_000
const BOTTOM_SLACK_PX = 48
const LOAD_OLDER_AT_PX = 300
const HIGHLIGHT_MS = 2500

/** @param {{ store: Store, chat: Chat, onOpenImage: (url: string, name: string) => void }} deps */
export function createMessagesView ({ store, chat, onOpenImage }) {
  /** A room's heading: `#name`, or a DM's people. @param {import('../types.js').RoomState} rs */
  const label = (rs) => rs.room.kind === 'dm' ? store.title(rs.room) : `#${rs.room.name}`
  const scroller = byId('message-scroller', HTMLDivElement)
  const list = byId('message-list', HTMLOListElement)
  const status = byId('history-status', HTMLParagraphElement)
  const jump = byId('jump-latest', HTMLButtonElement)
  const heading = byId('room-heading', HTMLHeadingElement)
  const topic = byId('room-topic', HTMLParagraphElement)
  /** Elements by key, for the room on screen; a pending/failed row is rebuilt when its state changes. */
  let nodes = new Map()
  let shownRoom = /** @type {number | null} */ (null)
  let stick = true
  let lastKey = ''
  /** @type {{ id: number, draft: string } | null} The message being edited in place (it survives redraws). */
  let editing = null
  const menu = createMessageMenu({ store, chat, onEdit: startEdit })
  const focus = createMessageFocus({
    list,
    scroller,
    onTop: () => {
      const roomId = store.state.currentRoomId
      const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
      if (roomId !== null && rs?.hasOlder && !rs.loadingOlder) chat.loadOlder(roomId).catch(() => {})
    }
  })
  /** @type {import('./message-item.js').ItemActions} */
  const actions = {
    ownId: store.state.me?.id ?? 0,
    onRetry: chat.retry,
    onDiscard: chat.discard,
    onOpenImage,
    onMenu: menu.open,
    onReact: (m, emoji) => { chat.react(m, emoji) },
    onQuote: (roomId, id) => { jumpTo(roomId, id) },
    editing: (id) => editing?.id === id ? editing : null,
    onEditDone: finishEdit
  }

  /** Rebuild one message's row now (its state outside the message changed). @param {number} id */
  function redraw (id) {
    nodes.delete(`m${id}`)
    render()
    return /** @type {HTMLElement | null} */ (list.querySelector(`li.msg[data-id="${id}"]`))
  }

  /** @param {Message} m */
  function startEdit (m) {
    const previous = editing?.id
    editing = { id: m.id, draft: m.body }
    if (previous && previous !== m.id) redraw(previous)
    const box = redraw(m.id)?.querySelector('textarea')
    if (box) {
      box.focus()
      box.setSelectionRange(box.value.length, box.value.length)
    }
  }

  /** Enter (body) or Esc (null). @param {Message} m @param {string | null} body */
  async function finishEdit (m, body) {
    const text = body?.replace(/\s+$/, '') ?? null
    if (text !== null && text.trim() && text !== m.body && !await chat.edit(m, text)) return // kept open: the notice says why
    if (editing?.id !== m.id) return
    editing = null
    redraw(m.id)?.focus()
  }

  /** Scroll to a message (fetched with around= when not loaded) and highlight it. @param {number} roomId @param {number} id */
  async function jumpTo (roomId, id) {
    if (!await chat.reveal(roomId, id) || store.state.currentRoomId !== roomId) return
    const row = /** @type {HTMLElement | null} */ (list.querySelector(`li.msg[data-id="${id}"]`))
    if (!row) return
    stick = false
    row.scrollIntoView({ block: 'center' })
    row.classList.add('highlight')
    row.focus({ preventScroll: true })
    setTimeout(() => row.classList.remove('highlight'), HIGHLIGHT_MS)
  }

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < BOTTOM_SLACK_PX

  function scrollToBottom () {
    scroller.scrollTop = scroller.scrollHeight
    stick = true
    jump.hidden = true
  }

  /** @param {TimelineItem} item */
  function nodeFor (item) {
    // seq: any change of the message (edit, delete, reaction, pin) redraws it.
    const signature = `${item.key}|${item.message.seq}|${item.status}|${item.failure ?? ''}`
    let node = nodes.get(item.key)
    if (!node || node.dataset.signature !== signature) {
      node = renderMessage(item, actions)
      node.dataset.signature = signature
      nodes.set(item.key, node)
    }
    return node
  }

  /** @param {Date} date */
  function separatorFor (date) {
    const label = formatDay(date) // part of the key: "Today" becomes "Yesterday" at midnight
    const key = `d${dayKey(date)}|${label}`
    let node = nodes.get(key)
    if (!node) {
      // A heading per day: screen reader users can jump between days.
      node = h('li', { class: 'day-separator' }, h('h2', {}, label))
      nodes.set(key, node)
    }
    return node
  }

  /**
   * The message nearest the top edge, and where it is, to put it back after older rows are added.
   * Not a day separator: those are reused and may move to the top with the older rows.
   */
  function captureAnchor () {
    for (const el of list.querySelectorAll('li.msg')) {
      const row = /** @type {HTMLElement} */ (el)
      if (row.offsetTop + row.offsetHeight > scroller.scrollTop) return { el: row, offset: row.offsetTop - scroller.scrollTop }
    }
    return null
  }

  function render () {
    const roomId = store.state.currentRoomId
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    if (!rs || roomId === null) return
    if (!rs.messages) {
      status.textContent = 'Loading messages…'
      return
    }
    const wasAtBottom = stick
    const anchor = wasAtBottom ? null : captureAnchor()
    const hadFocus = focus.focusedKey()
    const items = store.timeline(roomId)
    /** @type {HTMLElement[]} */
    const wanted = []
    let prev = /** @type {TimelineItem | null} */ (null)
    for (const item of items) {
      const date = new Date(item.message.createdAt)
      const day = dayKey(date)
      const newDay = !prev || dayKey(new Date(prev.message.createdAt)) !== day
      if (newDay) wanted.push(separatorFor(date))
      const node = nodeFor(item)
      const grouped = !newDay && prev !== null && prev.message.author.id === item.message.author.id &&
        date.getTime() - new Date(prev.message.createdAt).getTime() < GROUP_WINDOW_MS
      node.classList.toggle('grouped', grouped)
      wanted.push(node)
      prev = item
    }
    wanted.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] ?? null)
    })
    while (list.children.length > wanted.length) list.lastElementChild?.remove()
    const keep = new Set(wanted)
    for (const [key, node] of nodes) if (!keep.has(node)) nodes.delete(key)

    status.textContent = rs.loadingOlder ? 'Loading earlier messages…'
      : rs.hasOlder ? ''
        : items.length ? `This is the beginning of ${label(rs)}.` : `No messages in ${label(rs)} yet. Say hello!`
    const newest = items.at(-1)?.key ?? ''
    const grewAtEnd = newest !== lastKey
    lastKey = newest
    if (wasAtBottom) scrollToBottom()
    else if (anchor) scroller.scrollTop = anchor.el.offsetTop - anchor.offset
    if (!wasAtBottom && grewAtEnd) jump.hidden = false
    focus.afterRender(nodes, hadFocus)
    afterViewChange()
  }

  /** Mark read when the newest messages are really in view; fetch older ones when near the top. */
  function afterViewChange () {
    const roomId = store.state.currentRoomId
    if (roomId === null) return
    if (atBottom() && document.visibilityState === 'visible') chat.markRead(roomId)
    const rs = store.state.rooms.get(roomId)
    if (rs?.hasOlder && !rs.loadingOlder && scroller.scrollTop < LOAD_OLDER_AT_PX) chat.loadOlder(roomId).catch(() => {})
  }

  function showRoom () {
    const roomId = store.state.currentRoomId
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    if (!rs) return
    if (shownRoom !== roomId) {
      shownRoom = roomId
      editing = null
      nodes = new Map()
      list.replaceChildren()
      focus.reset()
      lastKey = ''
      stick = true
      jump.hidden = true
    }
    heading.textContent = label(rs)
    topic.textContent = rs.room.topic
    topic.hidden = !rs.room.topic
    render()
  }

  scroller.addEventListener('scroll', () => {
    stick = atBottom()
    if (stick) jump.hidden = true
    afterViewChange()
  }, { passive: true })

  // Images, fonts and window size change the height; stay pinned to the bottom if we were.
  new ResizeObserver(() => { if (stick) scrollToBottom() }).observe(list)
  new ResizeObserver(() => { if (stick) scrollToBottom() }).observe(scroller)

  jump.addEventListener('click', scrollToBottom)
  document.addEventListener('visibilitychange', afterViewChange)
  window.addEventListener('focus', afterViewChange)

  // A search hit: centred, marked, and focused so the keyboard carries on from there.
  store.on('focus-message', (id) => {
    const node = list.querySelector(`li[data-id="${Number(id)}"]`)
    if (!(node instanceof HTMLElement)) return
    for (const old of list.querySelectorAll('.search-hit')) old.classList.remove('search-hit')
    node.classList.add('search-hit')
    stick = false
    node.scrollIntoView({ block: 'center' })
    node.focus({ preventScroll: true })
  })

  store.on('current', showRoom)
  store.on('messages', (roomId) => { if (roomId === store.state.currentRoomId) render() })
  store.on('rooms', () => {
    const rs = store.state.currentRoomId === null ? undefined : store.state.rooms.get(store.state.currentRoomId)
    if (rs) heading.textContent = label(rs)
  })

  return { scrollToBottom, jumpTo }
}
