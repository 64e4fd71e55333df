// The search box in the header and its results panel: room, author, time and a snippet whose
// matched words are <mark>ed (built from text nodes: the snippet is never parsed as HTML). Enter or
// a click on a result opens its room at that message. Keyboard: Enter searches, Down arrow goes to
// the results, Up/Down/Home/End move between them, Escape goes back to the box (and from the box
// closes the panel).

import { byId, h } from '../lib/dom.js'
import { formatFull } from '../lib/format.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */
/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../api.js').SearchResult} SearchResult */

const PAGE = 20

/**
 * The snippet as nodes: plain text, with the highlighted ranges in <mark>.
 * @param {string} text @param {Array<{ start: number, end: number }>} highlights
 */
export function snippetNodes (text, highlights) {
  /** @type {Node[]} */
  const nodes = []
  let at = 0
  for (const { start, end } of [...highlights].sort((a, b) => a.start - b.start)) {
    if (start < at || end > text.length || end <= start) continue
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)))
    nodes.push(h('mark', {}, text.slice(start, end)))
    at = end
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)))
  return nodes
}

/** @param {{ store: Store, api: Api, chat: Chat, onNotice: (text: string) => void }} deps */
export function createSearchView ({ store, api, chat, onNotice }) {
  const form = byId('search-form', HTMLFormElement)
  const input = byId('search-input', HTMLInputElement)
  const panel = byId('search-panel', HTMLElement)
  const roomOnly = byId('search-room-only', HTMLInputElement)
  const from = byId('search-from', HTMLInputElement)
  const close = byId('search-close', HTMLButtonElement)
  const status = byId('search-status', HTMLParagraphElement)
  const list = byId('search-results', HTMLOListElement)
  const more = byId('search-more', HTMLButtonElement)
  /** Each search gets a number: answers to an older one are dropped. */
  let run = 0
  /** @type {{ q: string, roomId?: number } | null} */
  let current = null
  let lastId = 0
  let count = 0

  /** @returns {{ q: string, roomId?: number } | null} */
  function params () {
    const words = input.value.trim()
    const person = from.value.trim().replace(/^@/, '')
    if (words === '' && person === '') return null
    const q = person === '' ? words : `${words} from:${person}`.trim()
    const roomId = roomOnly.checked && store.state.currentRoomId !== null ? store.state.currentRoomId : undefined
    return { q, roomId }
  }

  /** @param {SearchResult} result */
  function renderResult (result) {
    const m = result.message
    const room = store.state.rooms.get(m.roomId)?.room.name ?? `room ${m.roomId}`
    const when = new Date(m.createdAt)
    const button = h('button', {
      type: 'button',
      class: 'search-result',
      'data-room-id': m.roomId,
      'data-message-id': m.id,
      onclick: () => { open(m.roomId, m.id).catch(() => {}) }
    },
    h('span', { class: 'search-meta' },
      h('span', { class: 'search-room' }, `#${room}`), ' · ',
      h('span', { class: 'search-author' }, m.author.username), ' · ',
      h('time', { datetime: m.createdAt }, formatFull(when))),
    h('span', { class: 'search-snippet' }, snippetNodes(result.snippet, result.highlights)))
    return h('li', {}, button)
  }

  /** @param {boolean} next  true: the page after what is shown */
  async function search (next) {
    const p = next ? current : params()
    if (p === null) {
      panel.hidden = true
      return
    }
    const mine = ++run
    if (!next) {
      current = p
      lastId = 0
      count = 0
      list.replaceChildren()
    }
    panel.hidden = false
    status.textContent = 'Searching…'
    more.hidden = true
    try {
      const page = await api.search({ ...p, limit: PAGE, before: next ? lastId : undefined })
      if (mine !== run) return
      list.append(...page.results.map(renderResult))
      count += page.results.length
      lastId = page.results.at(-1)?.message.id ?? lastId
      more.hidden = !page.hasMore
      status.textContent = count === 0 ? 'No messages match.' : `${count}${page.hasMore ? '+' : ''} result${count === 1 ? '' : 's'}`
    } catch (err) {
      if (mine !== run) return
      status.textContent = err instanceof Error ? err.message : String(err)
    }
  }

  /** @param {number} roomId @param {number} messageId */
  async function open (roomId, messageId) {
    const shown = await chat.openMessage(roomId, messageId)
    if (!shown) onNotice('That message is too far back to open here; scroll up in its room to find it.')
    else if (window.matchMedia('(max-width: 800px)').matches) panel.hidden = true
  }

  const buttons = () => [...list.querySelectorAll('button.search-result')].filter((b) => b instanceof HTMLButtonElement)

  form.addEventListener('submit', (e) => {
    e.preventDefault()
    search(false).catch(() => {})
  })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !panel.hidden) {
      e.preventDefault()
      buttons()[0]?.focus()
    } else if (e.key === 'Escape' && !panel.hidden) {
      e.preventDefault()
      panel.hidden = true
    }
  })
  list.addEventListener('keydown', (e) => {
    const all = buttons()
    const at = all.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement))
    if (at === -1) return
    const to = e.key === 'ArrowDown' ? Math.min(all.length - 1, at + 1)
      : e.key === 'ArrowUp' ? at - 1
        : e.key === 'Home' ? 0
          : e.key === 'End' ? all.length - 1
            : e.key === 'Escape' ? -1 : null
    if (to === null) return
    e.preventDefault()
    if (to === -1) input.focus()
    else all[to]?.focus()
  })
  for (const filter of [roomOnly, from]) filter.addEventListener('change', () => { if (current !== null) search(false).catch(() => {}) })
  from.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault()
      search(false).catch(() => {})
    }
  })
  more.addEventListener('click', () => { search(true).catch(() => {}) })
  close.addEventListener('click', () => {
    panel.hidden = true
    input.focus()
  })
  // "Only this room" follows the room on screen.
  store.on('current', () => { if (roomOnly.checked && current !== null && !panel.hidden) search(false).catch(() => {}) })
}
