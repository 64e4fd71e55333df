// The message list as one Tab stop (a roving tabindex): one row is tabbable, the newest until you
// focus another; the arrows, Home/End and PageUp/PageDown move between rows; Enter opens a row's
// "Message actions". Only that row's own links and buttons are in the Tab order, so Tab and
// Shift+Tab cross the list in one step however many messages are loaded.

import { setRowTabbable } from './message-item.js'

const MOVES = new Set(['ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'])
const UPWARD = new Set(['ArrowUp', 'Home', 'PageUp'])

/**
 * @param {{ list: HTMLOListElement, scroller: HTMLElement, onTop: () => void }} deps
 *   onTop: an upward key on the first loaded row (load older messages, if there are any).
 */
export function createMessageFocus ({ list, scroller, onTop }) {
  /** The key of the row last focused; null follows the newest row. */
  let chosen = /** @type {string | null} */ (null)
  /** The row that is tabbable now. */
  let stop = /** @type {HTMLElement | null} */ (null)

  const rows = () => /** @type {HTMLElement[]} */ ([...list.querySelectorAll(':scope > li.msg')])

  function newest () {
    let el = list.lastElementChild
    while (el && !el.matches('li.msg')) el = el.previousElementSibling
    return el instanceof HTMLElement ? el : null
  }

  /** @param {HTMLElement | null} row */
  function setStop (row) {
    if (row === stop) return
    if (stop) setRowTabbable(stop, false)
    if (row) setRowTabbable(row, true)
    stop = row
  }

  /** @param {HTMLElement} row */
  function move (row) {
    row.focus({ preventScroll: true })
    row.scrollIntoView({ block: 'nearest' })
  }

  /** The row about one screen away from all[i], at least one row on. @param {HTMLElement[]} all @param {number} i @param {1 | -1} dir */
  function pageFrom (all, i, dir) {
    const from = all[i].getBoundingClientRect().top
    let j = i + dir
    while (all[j + dir] && Math.abs(all[j + dir].getBoundingClientRect().top - from) <= scroller.clientHeight) j += dir
    return j
  }

  /** Which row holds the focus, read before the list is redrawn (a redrawn row loses it). */
  function focusedKey () {
    const active = document.activeElement
    if (!(active instanceof HTMLElement) || !list.contains(active)) return null
    return /** @type {HTMLElement | null} */ (active.closest('li.msg'))?.dataset.key ?? null
  }

  /**
   * After a redraw: the stop stays on the chosen message while it is shown (else the newest), and
   * focus that a redrawn row dropped goes back to that message.
   * @param {Map<string, HTMLElement>} nodes rows by key @param {string | null} hadFocus from focusedKey()
   */
  function afterRender (nodes, hadFocus) {
    let row = chosen === null ? undefined : nodes.get(chosen)
    if (!row?.isConnected) {
      chosen = null
      row = newest() ?? undefined
    }
    setStop(row ?? null)
    if (hadFocus !== null && !list.contains(document.activeElement)) (nodes.get(hadFocus) ?? stop)?.focus({ preventScroll: true })
  }

  /** Another room: start again from its newest message. */
  function reset () {
    chosen = null
    stop = null
  }

  list.addEventListener('focusin', (event) => {
    const row = event.target instanceof HTMLElement ? event.target.closest('li.msg') : null
    if (!(row instanceof HTMLElement)) return
    chosen = row.dataset.key ?? null
    setStop(row)
  })

  list.addEventListener('keydown', (event) => {
    const target = event.target
    if (!(target instanceof HTMLElement) || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return
    const row = target.closest('li.msg')
    if (!(row instanceof HTMLElement)) return
    if (target === row && (event.key === 'Enter' || event.key === 'ContextMenu')) {
      // Like pressing its (hidden until hover) "Message actions" button.
      const button = row.querySelector('.msg-menu-btn')
      if (button instanceof HTMLButtonElement) {
        event.preventDefault()
        button.click()
      }
      return
    }
    // The editor and the media players keep their own arrow keys.
    if (!MOVES.has(event.key) || (target !== row && !target.matches('a, button'))) return
    event.preventDefault()
    const all = rows()
    const i = all.indexOf(row)
    if (i < 0) return
    /** @type {Record<string, () => number>} */
    const to = {
      ArrowUp: () => i - 1,
      ArrowDown: () => i + 1,
      Home: () => 0,
      End: () => all.length - 1,
      PageUp: () => pageFrom(all, i, -1),
      PageDown: () => pageFrom(all, i, 1)
    }
    const j = Math.max(0, Math.min(all.length - 1, to[event.key]()))
    if (i === 0 && UPWARD.has(event.key)) onTop()
    move(all[j])
  })

  return { focusedKey, afterRender, reset }
}
