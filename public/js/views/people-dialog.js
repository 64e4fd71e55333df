// The "New message" dialog: find people by the start of their name ("Find people"), choose one
// (a DM) or up to eight (a group DM), start the conversation. Opening an existing set of people
// opens their existing conversation: the server finds DMs by who is in them.

import { ApiError } from '../api.js'
import { byId, h } from '../lib/dom.js'

/** @typedef {import('../types.js').Author} Author */

const MAX_OTHERS = 8

/** @param {{ api: import('../api.js').Api, chat: import('../chat.js').Chat, me: Author, onOpened: () => void }} deps */
export function createPeopleDialog ({ api, chat, me, onOpened }) {
  const dialog = byId('new-message-dialog', HTMLDialogElement)
  const search = byId('find-people', HTMLInputElement)
  const results = byId('people-results', HTMLUListElement)
  const chosenList = byId('people-chosen', HTMLUListElement)
  const error = byId('new-message-error', HTMLParagraphElement)
  const start = byId('start-dm', HTMLButtonElement)
  /** @type {Map<number, Author>} */
  const chosen = new Map()
  let asked = 0
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce

  function renderChosen () {
    chosenList.replaceChildren(...[...chosen.values()].map((user) => h('li', {},
      h('span', {}, user.username),
      h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${user.username}`, onclick: () => { chosen.delete(user.id); renderChosen() } }, '×'))))
    start.disabled = chosen.size === 0
  }

  /** @param {Author[]} users */
  function renderResults (users) {
    const others = users.filter((u) => u.id !== me.id)
    results.replaceChildren(...others.map((user) => h('li', {}, h('button', {
      type: 'button',
      class: 'person',
      'aria-pressed': chosen.has(user.id) ? 'true' : 'false',
      onclick: () => {
        if (chosen.has(user.id)) chosen.delete(user.id)
        else if (chosen.size < MAX_OTHERS) chosen.set(user.id, user)
        else error.textContent = 'A conversation has at most nine people, you included.'
        renderChosen()
        renderResults(users)
      }
    }, user.username))))
    if (others.length === 0 && search.value.trim()) results.append(h('li', { class: 'muted small' }, 'Nobody by that name.'))
  }

  async function find () {
    const q = search.value.trim()
    error.textContent = ''
    if (!q) return renderResults([])
    const mine = ++asked
    try {
      const users = await api.findPeople(q)
      if (mine === asked) renderResults(users)
    } catch (err) {
      if (mine === asked) error.textContent = err instanceof Error ? err.message : 'Could not search.'
    }
  }

  search.addEventListener('input', () => {
    clearTimeout(debounce)
    debounce = setTimeout(find, 200)
  })

  start.addEventListener('click', async () => {
    error.textContent = ''
    start.disabled = true
    try {
      await chat.openDm([...chosen.keys()])
      dialog.close()
      onOpened()
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Could not start the conversation.'
      start.disabled = chosen.size === 0
    }
  })

  byId('new-message-cancel', HTMLButtonElement).addEventListener('click', () => dialog.close())
  byId('new-message-button', HTMLButtonElement).addEventListener('click', () => {
    chosen.clear()
    search.value = ''
    error.textContent = ''
    renderResults([])
    renderChosen()
    dialog.showModal()
    search.focus()
  })
}
