// The message box: Enter sends, Shift+Enter adds a line; typing frames while typing, paced by the
// server's typing limits (chat.typingRepeatMs), and isTyping:false on send, blur or an emptied
// box; one draft kept per room.

import { byId } from '../lib/dom.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */

const MAX_HEIGHT_PX = 200

/** @param {{ store: Store, chat: Chat, beforeSend: () => void }} deps */
export function createComposerView ({ store, chat, beforeSend }) {
  const form = byId('composer', HTMLFormElement)
  const input = byId('composer-input', HTMLTextAreaElement)
  /** @type {Map<number, string>} */
  const drafts = new Map()
  let typingRoom = /** @type {number | null} */ (null)
  let lastTypingSent = 0
  let draftRoom = store.state.currentRoomId

  function autosize () {
    input.style.height = 'auto'
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT_PX)}px`
  }

  function stopTyping () {
    if (typingRoom !== null) chat.sendTyping(typingRoom, false)
    typingRoom = null
    lastTypingSent = 0
  }

  function onInput () {
    autosize()
    const roomId = store.state.currentRoomId
    if (roomId === null) return
    if (!input.value.trim()) {
      stopTyping()
      return
    }
    const now = Date.now()
    if (typingRoom !== roomId || now - lastTypingSent >= chat.typingRepeatMs()) {
      if (typingRoom !== null && typingRoom !== roomId) stopTyping()
      chat.sendTyping(roomId, true)
      typingRoom = roomId
      lastTypingSent = now
    }
  }

  function send () {
    const body = input.value.replace(/\s+$/, '')
    if (!body.trim() || store.state.currentRoomId === null) return
    stopTyping()
    beforeSend()
    chat.send(body)
    input.value = ''
    autosize()
    input.focus()
  }

  /** Insert text where the caret is (replacing a selection), as if typed. @param {string} text */
  function insertAtCaret (text) {
    input.focus()
    input.setRangeText(text, input.selectionStart, input.selectionEnd, 'end')
    input.dispatchEvent(new Event('input', { bubbles: true }))
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      send()
    }
  })
  input.addEventListener('input', onInput)
  input.addEventListener('blur', stopTyping)
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    send()
  })

  store.on('current', () => {
    const roomId = store.state.currentRoomId
    if (roomId === draftRoom) return
    stopTyping()
    if (draftRoom !== null) drafts.set(draftRoom, input.value)
    draftRoom = roomId
    input.value = roomId === null ? '' : drafts.get(roomId) ?? ''
    const rs = roomId === null ? undefined : store.state.rooms.get(roomId)
    input.placeholder = rs ? `Message ${rs.room.kind === 'dm' ? store.title(rs.room) : `#${rs.room.name}`}` : 'Write a message'
    autosize()
  })

  return { insertAtCaret, focus: () => input.focus(), input }
}
