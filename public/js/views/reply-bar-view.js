// "Replying to …" above the message box while a reply is being written, with a way out (the
// button, or Esc in the box). Switching rooms drops the reply.

import { byId, h } from '../lib/dom.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

/** @param {{ store: Store, chat: Chat, input: HTMLTextAreaElement }} deps */
export function createReplyBar ({ store, chat, input }) {
  const text = h('span', { class: 'reply-bar-text' })
  const bar = h('div', { class: 'reply-bar small', id: 'reply-bar', hidden: true },
    text, h('button', { type: 'button', class: 'link-btn', onclick: () => { chat.setReply(null); input.focus() } }, 'Cancel reply'))
  byId('composer', HTMLFormElement).before(bar)

  store.on('reply', () => {
    const r = chat.replyingTo()
    bar.hidden = !r
    text.textContent = r ? `Replying to ${r.author.username}: ${r.excerpt || '(attachment)'}` : ''
    if (r) input.focus()
  })
  store.on('current', () => { if (chat.replyingTo()) chat.setReply(null) })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && chat.replyingTo()) chat.setReply(null)
  })
}
