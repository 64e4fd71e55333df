// "@" in the message box suggests people (GET /api/users?q=): a listbox under the box, Up/Down to
// choose, Enter or Tab to complete, Esc to close. The box stays focused (aria-activedescendant).

import { h } from '../lib/dom.js'

/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('../types.js').Author} Author */

const TOKEN = /(?:^|[^\p{L}\p{N}_.-])@([\p{L}\p{N}_.-]*)$/u

/** @param {{ api: Api, input: HTMLTextAreaElement }} deps */
export function createMentionSuggest ({ api, input }) {
  const list = h('ul', { id: 'mention-list', class: 'mention-list', role: 'listbox', 'aria-label': 'People to mention', hidden: true })
  input.closest('form')?.before(list)
  /** @type {Author[]} */
  let found = []
  let active = 0
  let asked = 0

  function close () {
    list.hidden = true
    found = []
    input.removeAttribute('aria-activedescendant')
    input.setAttribute('aria-expanded', 'false')
  }

  function show () {
    list.replaceChildren(...found.map((user, i) => h('li', {
      id: `mention-${user.id}`,
      role: 'option',
      'aria-selected': i === active ? 'true' : 'false',
      onmousedown: (/** @type {Event} */ e) => { e.preventDefault(); complete(user) }
    }, `@${user.username}`)))
    list.hidden = found.length === 0
    input.setAttribute('aria-expanded', String(found.length > 0))
    if (found[active]) input.setAttribute('aria-activedescendant', `mention-${found[active].id}`)
  }

  /** @param {Author} user */
  function complete (user) {
    const before = input.value.slice(0, input.selectionStart)
    const match = before.match(TOKEN)
    if (!match) return close()
    const start = before.length - match[1].length
    input.setRangeText(`${user.username} `, start, input.selectionStart, 'end')
    input.dispatchEvent(new Event('input', { bubbles: true }))
    close()
  }

  input.setAttribute('aria-autocomplete', 'list')
  input.setAttribute('aria-controls', 'mention-list')
  input.setAttribute('aria-expanded', 'false')
  input.addEventListener('input', async () => {
    const match = input.value.slice(0, input.selectionStart).match(TOKEN)
    if (!match || !match[1]) return close()
    const run = ++asked
    try {
      const users = await api.findPeople(match[1])
      if (run !== asked) return
      found = users.slice(0, 8)
      active = 0
      show()
    } catch {
      close()
    }
  })
  // Before the composer's own Enter handler (capture): Enter completes instead of sending.
  input.addEventListener('keydown', (event) => {
    if (list.hidden || found.length === 0) return
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      active = (active + (event.key === 'ArrowDown' ? 1 : found.length - 1)) % found.length
      show()
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault()
      event.stopImmediatePropagation()
      const user = found[active]
      if (user) complete(user)
    } else if (event.key === 'Escape') {
      event.stopImmediatePropagation()
      close()
    }
  }, { capture: true })
  input.addEventListener('blur', close)
}
