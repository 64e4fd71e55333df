// Full-size image viewer in a modal <dialog> (Escape and the Close button close it).

import { byId } from '../lib/dom.js'

export function createLightbox () {
  const dialog = byId('lightbox', HTMLDialogElement)
  const img = byId('lightbox-img', HTMLImageElement)
  const link = byId('lightbox-link', HTMLAnchorElement)
  byId('lightbox-close', HTMLButtonElement).addEventListener('click', () => dialog.close())
  // A click on the backdrop (the dialog box itself, outside the image) closes it too.
  dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close() })
  dialog.addEventListener('close', () => img.removeAttribute('src'))

  /** @param {string} url @param {string} name */
  function open (url, name) {
    img.src = url
    img.alt = name
    link.href = url
    dialog.showModal()
  }

  return { open }
}
