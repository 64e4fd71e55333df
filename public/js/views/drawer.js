// On narrow screens the sidebar is an off-canvas drawer, opened by the "Room list" button.
// While closed it is inert, so keyboard focus never lands inside it.

import { byId } from '../lib/dom.js'

const NARROW = window.matchMedia('(max-width: 767px)')

export function createDrawer () {
  const sidebar = byId('sidebar', HTMLElement)
  const toggle = byId('drawer-toggle', HTMLButtonElement)
  const closeButton = byId('drawer-close', HTMLButtonElement)
  const backdrop = byId('drawer-backdrop', HTMLDivElement)
  const main = byId('main', HTMLElement)
  let open = false

  function render () {
    const narrow = NARROW.matches
    sidebar.classList.toggle('open', narrow && open)
    sidebar.inert = narrow && !open
    main.inert = narrow && open // keeps keyboard focus inside the open drawer
    backdrop.hidden = !(narrow && open)
    toggle.setAttribute('aria-expanded', String(narrow && open))
  }

  /** @param {boolean} next */
  function set (next) {
    const wasOpen = open
    open = next
    render()
    if (next && !wasOpen) /** @type {HTMLElement} */ (sidebar.querySelector('.room[aria-current]') ?? closeButton).focus()
    if (!next && wasOpen && NARROW.matches) toggle.focus()
  }

  toggle.addEventListener('click', () => set(!open))
  closeButton.addEventListener('click', () => set(false))
  backdrop.addEventListener('click', () => set(false))
  sidebar.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && open) set(false)
  })
  NARROW.addEventListener('change', render)
  render()

  return { close: () => { if (open) set(false) } }
}
