// One message as DOM: avatar, author, time, linkified text, attachment, delivery state.
// All user-controlled strings (names, bodies, file names) go in as text, never as HTML.

import { h } from '../lib/dom.js'
import { colorSlot, formatFull, formatSize, formatTime, initials } from '../lib/format.js'
import { appendLinkified, safeHref } from '../lib/linkify.js'

/** @typedef {import('../store.js').TimelineItem} TimelineItem */
/** @typedef {import('../types.js').Attachment} Attachment */

/** @typedef {import('../types.js').Message} Message */

/**
 * What a message row can do. `editing` is the draft when this message is being edited in place.
 * @typedef {{
 *   ownId: number,
 *   onRetry: (clientId: string) => void,
 *   onDiscard: (clientId: string) => void,
 *   onOpenImage: (url: string, name: string) => void,
 *   onMenu?: (message: Message, button: HTMLButtonElement) => void,
 *   onReact?: (message: Message, emoji: string) => void,
 *   onQuote?: (roomId: number, messageId: number) => void,
 *   editing?: (messageId: number) => { draft: string } | null,
 *   onEditDone?: (message: Message, body: string | null) => void,
 * }} ItemActions
 */

/** @param {string} name @param {string} [extra] */
export function avatar (name, extra = '') {
  return h('span', { class: `avatar c${colorSlot(name)} ${extra}`.trim(), 'aria-hidden': 'true' }, initials(name))
}

/**
 * Media lives on this server (/media/…): anything else (another origin, another scheme) is refused.
 * @param {string | undefined} url
 */
function mediaHref (url) {
  if (!url) return null
  try {
    const resolved = new URL(url, location.href)
    return resolved.origin === location.origin ? safeHref(resolved.href) : null
  } catch {
    return null
  }
}

/** @param {Attachment} att @param {ItemActions} actions */
function renderAttachment (att, actions) {
  const url = mediaHref(att.url)
  if (!url) return h('p', { class: 'attachment-missing' }, `Attachment unavailable: ${att.name}`)
  if (att.kind === 'image') {
    const img = h('img', { src: mediaHref(att.thumbnailUrl) ?? url, alt: att.name, loading: 'lazy', decoding: 'async' })
    return h('button', {
      type: 'button',
      class: 'attachment-image',
      'aria-label': `View image ${att.name} at full size`,
      onclick: () => actions.onOpenImage(url, att.name)
    }, img)
  }
  if (att.kind === 'video' || att.kind === 'audio') {
    const player = h(att.kind, { src: url, controls: true, preload: 'metadata', class: `attachment-${att.kind}` })
    player.setAttribute('aria-label', att.name)
    return h('div', { class: 'attachment-media' }, player,
      h('a', { href: url, download: att.name, class: 'attachment-caption small' }, `${att.name} · ${formatSize(att.size)}`))
  }
  return h('a', { href: url, download: att.name, class: 'attachment-file' },
    h('span', { class: 'file-icon', 'aria-hidden': 'true' }, fileBadge(att.name)),
    h('span', { class: 'file-meta' },
      h('span', { class: 'file-name' }, att.name),
      h('span', { class: 'file-size small muted' }, `${formatSize(att.size)} · Download`)))
}

/** "PDF", "ZIP"…: the extension, short, for the file icon. @param {string} name */
function fileBadge (name) {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot + 1, dot + 5).toUpperCase() : 'FILE'
}

/** @param {TimelineItem} item @param {ItemActions} actions */
function renderStatus (item, actions) {
  const clientId = item.message.clientId ?? ''
  if (item.status === 'pending') return h('p', { class: 'msg-status small' }, 'Sending…')
  if (item.status !== 'failed') return null
  return h('p', { class: 'msg-status failed small' },
    h('span', {}, `Not sent: ${item.failure ?? 'unknown error'} `),
    h('button', { type: 'button', class: 'link-btn', onclick: () => actions.onRetry(clientId) }, 'Retry'),
    ' · ',
    h('button', { type: 'button', class: 'link-btn', onclick: () => actions.onDiscard(clientId) }, 'Discard'))
}

/**
 * The body as text nodes, links made clickable, and the people it mentions (resolved by the
 * server) marked: `@name` matched case-insensitively, not inside a word, as the server does.
 * @param {HTMLElement} parent @param {Message} m @param {number} ownId
 */
function appendBody (parent, m, ownId) {
  const names = new Map(m.mentions.map((a) => [a.username.toLowerCase(), a]))
  if (names.size === 0) {
    appendLinkified(parent, m.body)
    return
  }
  let last = 0
  for (const match of m.body.matchAll(/(^|[^\p{L}\p{N}_.-])@([\p{L}\p{N}_.-]+)/gu)) {
    const who = names.get(match[2].toLowerCase())
    if (!who) continue
    const start = (match.index ?? 0) + match[1].length
    appendLinkified(parent, m.body.slice(last, start))
    const mark = h('mark', { class: who.id === ownId ? 'mention me' : 'mention' }, `@${match[2]}`)
    parent.append(mark)
    last = start + 1 + match[2].length
  }
  appendLinkified(parent, m.body.slice(last))
}

/** @param {Message} m @param {ItemActions} actions */
function renderQuote (m, actions) {
  const r = m.replyTo
  if (!r) return null
  const text = r.excerpt || 'Message deleted'
  return h('button', {
    type: 'button',
    class: 'msg-quote',
    'aria-label': `Reply to ${r.author.username}: ${text}. Show that message`,
    onclick: () => actions.onQuote?.(m.roomId, r.id)
  }, h('span', { class: 'msg-quote-author' }, r.author.username), ' ', h('span', { class: r.excerpt ? 'msg-quote-text' : 'msg-quote-text deleted' }, text))
}

/** @param {Message} m @param {ItemActions} actions */
function renderReactions (m, actions) {
  if (m.reactions.length === 0) return null
  return h('div', { class: 'msg-reactions', role: 'group', 'aria-label': 'Reactions' },
    m.reactions.map((r) => {
      const mine = r.userIds.includes(actions.ownId)
      return h('button', {
        type: 'button',
        class: 'reaction',
        'aria-pressed': mine ? 'true' : 'false',
        'aria-label': `${r.emoji} ${r.count}${mine ? ', you reacted' : ''}`,
        onclick: () => actions.onReact?.(m, r.emoji)
      }, h('span', { 'aria-hidden': 'true' }, r.emoji), ' ', h('span', { 'aria-hidden': 'true' }, String(r.count)))
    }))
}

/** Edit in place: Enter saves, Shift+Enter adds a line, Esc cancels. @param {Message} m @param {string} draft @param {ItemActions} actions */
function renderEditor (m, draft, actions) {
  const box = h('textarea', { class: 'msg-editor', rows: 2, maxlength: 4000, 'aria-label': 'Edit message', 'aria-describedby': 'edit-hint' })
  box.value = draft
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      actions.onEditDone?.(m, null)
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      actions.onEditDone?.(m, box.value)
    }
  })
  box.addEventListener('input', () => {
    const state = actions.editing?.(m.id)
    if (state) state.draft = box.value
  })
  return h('div', { class: 'msg-edit' }, box,
    h('p', { id: 'edit-hint', class: 'small muted' }, 'Enter saves · Esc cancels · Shift+Enter starts a new line'))
}

/** @param {TimelineItem} item @param {ItemActions} actions @returns {HTMLLIElement} */
export function renderMessage (item, actions) {
  const m = item.message
  const date = new Date(m.createdAt)
  const time = () => h('time', { datetime: m.createdAt, title: formatFull(date) }, formatTime(date))
  const editing = m.id && !m.deletedAt ? actions.editing?.(m.id) ?? null : null
  /** @type {HTMLElement | null} */
  let body = null
  if (m.deletedAt) {
    body = h('div', { class: 'msg-body deleted' }, 'Message deleted')
  } else if (editing) {
    body = renderEditor(m, editing.draft, actions)
  } else if (m.unreadable) {
    // The server could not decrypt this one (a damaged row): say so rather than show an empty message.
    body = h('div', { class: 'msg-body unreadable' }, 'This message could not be read')
  } else if (m.body) {
    body = h('div', { class: 'msg-body' })
    appendBody(body, m, actions.ownId)
  }
  const edited = m.editedAt && !m.deletedAt
    ? h('time', { class: 'msg-edited', datetime: m.editedAt, title: `Edited ${formatFull(new Date(m.editedAt))}` },
      '(edited)', h('span', { class: 'visually-hidden' }, ` at ${formatFull(new Date(m.editedAt))}`))
    : null
  const menu = item.status === 'sent' && !m.deletedAt && actions.onMenu
    // Never a Tab stop of its own: Enter on the focused row opens the same menu.
    ? h('button', { type: 'button', class: 'msg-menu-btn icon-btn', tabindex: '-1', 'aria-label': 'Message actions', 'aria-haspopup': 'menu', 'aria-expanded': 'false' }, '⋯')
    : null
  if (menu) menu.addEventListener('click', () => actions.onMenu?.(m, menu))
  const li = h('li', { class: 'msg', 'data-key': item.key },
    avatar(m.author.username),
    h('span', { class: 'msg-side-time small', 'aria-hidden': 'true' }, formatTime(date)),
    h('div', { class: 'msg-content' },
      h('p', { class: 'msg-head' }, h('span', { class: 'msg-author' }, m.author.username), ' ', time(), edited ? ' ' : null, edited),
      m.pinned && !m.deletedAt ? h('p', { class: 'msg-pinned small' }, `📌 Pinned by ${m.pinned.by.username}`) : null,
      m.deletedAt ? null : renderQuote(m, actions),
      body,
      m.attachment && !m.deletedAt ? h('div', { class: 'msg-attachment' }, renderAttachment(m.attachment, actions)) : null,
      m.deletedAt ? null : renderReactions(m, actions),
      renderStatus(item, actions)),
    menu)
  li.classList.toggle('own', m.author.id === actions.ownId)
  li.classList.toggle('mentions-me', m.mentions.some((a) => a.id === actions.ownId))
  if (item.status !== 'sent') li.classList.add(item.status)
  if (m.id) li.dataset.id = String(m.id)
  // Focusable, but out of the Tab order until the list's roving tab stop lands here (message-focus.js).
  setRowTabbable(li, false)
  return li
}

/** A row's own controls, which follow the row in and out of the Tab order (not the actions button). */
const ROW_CONTROLS = 'a[href], button:not(.msg-menu-btn), textarea, input, audio[controls], video[controls]'

/**
 * Put one message row, and the links and buttons inside it, in or out of the Tab order, so that
 * the whole list is one Tab stop however long it is.
 * @param {HTMLElement} li @param {boolean} on
 */
export function setRowTabbable (li, on) {
  li.tabIndex = on ? 0 : -1
  for (const el of li.querySelectorAll(ROW_CONTROLS)) {
    if (on) el.removeAttribute('tabindex')
    else el.setAttribute('tabindex', '-1')
  }
}
