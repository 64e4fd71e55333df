// One message as DOM: avatar, author, time, linkified text, attachment, delivery state.
// All user-controlled strings (names, bodies, file names) go in as text, never as HTML.

import { h } from '../lib/dom.js'
import { colorSlot, formatFull, formatSize, formatTime, initials } from '../lib/format.js'
import { appendLinkified, safeHref } from '../lib/linkify.js'

/** @typedef {import('../store.js').TimelineItem} TimelineItem */
/** @typedef {import('../types.js').Attachment} Attachment */

/**
 * @typedef {{
 *   ownId: number,
 *   onRetry: (clientId: string) => void,
 *   onDiscard: (clientId: string) => void,
 *   onOpenImage: (url: string, name: string) => void,
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

/** @param {TimelineItem} item @param {ItemActions} actions @returns {HTMLLIElement} */
export function renderMessage (item, actions) {
  const m = item.message
  const date = new Date(m.createdAt)
  const time = () => h('time', { datetime: m.createdAt, title: formatFull(date) }, formatTime(date))
  // The server could not decrypt this one (a damaged row): say so rather than show an empty message.
  const body = m.unreadable
    ? h('div', { class: 'msg-body unreadable' }, 'This message could not be read')
    : m.body ? h('div', { class: 'msg-body' }) : null
  if (body && !m.unreadable) appendLinkified(body, m.body)
  const li = h('li', { class: 'msg', 'data-key': item.key },
    avatar(m.author.username),
    h('span', { class: 'msg-side-time small', 'aria-hidden': 'true' }, formatTime(date)),
    h('div', { class: 'msg-content' },
      h('p', { class: 'msg-head' }, h('span', { class: 'msg-author' }, m.author.username), ' ', time()),
      body,
      m.attachment ? h('div', { class: 'msg-attachment' }, renderAttachment(m.attachment, actions)) : null,
      renderStatus(item, actions)))
  li.classList.toggle('own', m.author.id === actions.ownId)
  if (item.status !== 'sent') li.classList.add(item.status)
  if (m.id) li.dataset.id = String(m.id)
  return li
}
