// Emoji button and picker: a grid of common emoji, usable with arrows, Home/End, Enter and Escape.
// Picking one inserts it at the caret of the message box.

import { byId, h } from '../lib/dom.js'

const COLUMNS = 8
/** @type {[string, string][]} */
const EMOJI = [
  ['😀', 'grinning face'], ['😂', 'face with tears of joy'], ['🙂', 'slightly smiling face'], ['😊', 'smiling face with smiling eyes'],
  ['😍', 'smiling face with heart-eyes'], ['😘', 'face blowing a kiss'], ['😉', 'winking face'], ['😎', 'smiling face with sunglasses'],
  ['🤔', 'thinking face'], ['🙃', 'upside-down face'], ['😅', 'grinning face with sweat'], ['😇', 'smiling face with halo'],
  ['🥳', 'partying face'], ['😴', 'sleeping face'], ['😢', 'crying face'], ['😭', 'loudly crying face'],
  ['😮', 'face with open mouth'], ['😱', 'face screaming in fear'], ['😡', 'enraged face'], ['🤯', 'exploding head'],
  ['🤗', 'smiling face with open hands'], ['🤝', 'handshake'], ['🙏', 'folded hands'], ['👏', 'clapping hands'],
  ['👍', 'thumbs up'], ['👎', 'thumbs down'], ['👋', 'waving hand'], ['👌', 'OK hand'],
  ['✌️', 'victory hand'], ['💪', 'flexed biceps'], ['👀', 'eyes'], ['🧠', 'brain'],
  ['❤️', 'red heart'], ['💔', 'broken heart'], ['🔥', 'fire'], ['✨', 'sparkles'],
  ['🎉', 'party popper'], ['🎂', 'birthday cake'], ['☕', 'hot beverage'], ['🍕', 'pizza'],
  ['✅', 'check mark button'], ['❌', 'cross mark'], ['⚠️', 'warning'], ['❓', 'question mark'],
  ['💡', 'light bulb'], ['🚀', 'rocket'], ['🐛', 'bug'], ['🔒', 'locked']
]

/** @param {{ onPick: (emoji: string) => void }} deps */
export function createEmojiPicker ({ onPick }) {
  const button = byId('emoji-button', HTMLButtonElement)
  const panel = byId('emoji-picker', HTMLDivElement)
  const cells = EMOJI.map(([emoji, name], index) => h('button', {
    type: 'button',
    class: 'emoji-cell',
    tabindex: index === 0 ? '0' : '-1',
    'aria-label': name,
    title: name,
    'data-emoji': emoji
  }, emoji))
  let active = 0
  panel.append(h('p', { class: 'emoji-title small muted', 'aria-hidden': 'true' }, 'Emoji'), h('div', { class: 'emoji-grid' }, cells))

  /** @param {number} index */
  function focusCell (index) {
    const next = Math.max(0, Math.min(cells.length - 1, index))
    cells[active].tabIndex = -1
    active = next
    cells[active].tabIndex = 0
    cells[active].focus()
  }

  function open () {
    panel.hidden = false
    button.setAttribute('aria-expanded', 'true')
    focusCell(active)
  }

  /** @param {boolean} [returnFocus] */
  function close (returnFocus = false) {
    if (panel.hidden) return
    panel.hidden = true
    button.setAttribute('aria-expanded', 'false')
    if (returnFocus) button.focus()
  }

  button.addEventListener('click', () => (panel.hidden ? open() : close(true)))

  panel.addEventListener('click', (event) => {
    const cell = event.target instanceof Element ? event.target.closest('.emoji-cell') : null
    if (!(cell instanceof HTMLButtonElement)) return
    focusCell(cells.indexOf(cell))
    close()
    onPick(cell.dataset.emoji ?? '')
  })

  panel.addEventListener('keydown', (event) => {
    /** @type {Record<string, number>} */
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }
    if (event.key in moves) focusCell(active + moves[event.key])
    else if (event.key === 'Home') focusCell(0)
    else if (event.key === 'End') focusCell(cells.length - 1)
    else if (event.key === 'Escape') close(true)
    else return
    event.preventDefault()
  })

  // Leaving the picker (Tab away, click elsewhere) closes it.
  panel.addEventListener('focusout', (event) => {
    const next = event.relatedTarget
    if (!(next instanceof Node) || (!panel.contains(next) && next !== button)) close()
  })
  document.addEventListener('pointerdown', (event) => {
    const target = event.target
    if (target instanceof Node && !panel.contains(target) && !button.contains(target)) close()
  })

  return { close }
}
