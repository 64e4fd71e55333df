// Sharing files: the Attach file button, drag and drop onto the conversation, and pasted images.
// Each upload shows a progress bar (XMLHttpRequest upload events) and can be cancelled.

import { byId, h } from '../lib/dom.js'
import { formatSize } from '../lib/format.js'

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../chat.js').Chat} Chat */
/** @typedef {import('../api.js').Api} Api */

const DONE_ROW_MS = 1_500

/** @param {{ store: Store, chat: Chat, api: Api, beforeSend: () => void }} deps */
export function createUploadsView ({ store, chat, api, beforeSend }) {
  const button = byId('attach-button', HTMLButtonElement)
  const fileInput = byId('file-input', HTMLInputElement)
  const list = byId('upload-list', HTMLUListElement)
  const main = byId('main', HTMLElement)
  const overlay = byId('drop-overlay', HTMLDivElement)
  const composerInput = byId('composer-input', HTMLTextAreaElement)
  let dragDepth = 0
  /** Images are sent one after another: the end of the last one queued. */
  let imageTurn = Promise.resolve(/** @type {unknown} */ (undefined))

  /** @param {File} file */
  function upload (file) {
    const roomId = store.state.currentRoomId
    if (roomId === null) return
    const bar = h('progress', { max: '100', value: '0', 'aria-label': `Uploading ${file.name}` })
    const percent = h('span', { class: 'upload-percent small muted' }, '0%')
    const cancel = h('button', { type: 'button', class: 'link-btn small', 'aria-label': `Cancel upload of ${file.name}` }, 'Cancel')
    const row = h('li', { class: 'upload' },
      h('span', { class: 'upload-name' }, file.name, h('span', { class: 'muted small' }, ` · ${formatSize(file.size)}`)),
      bar, percent, cancel)
    list.append(row)
    const onProgress = (/** @type {number} */ fraction) => {
      bar.value = Math.round(fraction * 100)
      percent.textContent = `${bar.value}%`
    }
    // The server processes one image per user at a time (a second one gets 429): images go one
    // after another, other files at once.
    let cancelled = false
    let abort = () => { cancelled = true }
    const start = () => {
      if (cancelled) return Promise.reject(new Error('Upload cancelled.'))
      const started = api.upload(roomId, file, onProgress)
      abort = started.abort
      return started.done
    }
    const done = file.type.startsWith('image/') ? imageTurn.catch(() => {}).then(start) : start()
    if (file.type.startsWith('image/')) imageTurn = done
    if (file.type.startsWith('image/')) percent.textContent = 'Waiting'
    cancel.addEventListener('click', () => abort())
    beforeSend()
    done.then((message) => {
      chat.addOwnMessage(message)
      bar.value = 100
      percent.textContent = 'Sent'
      cancel.remove()
      setTimeout(() => row.remove(), DONE_ROW_MS)
    }, (err) => {
      row.classList.add('failed')
      bar.remove()
      percent.textContent = err instanceof Error ? err.message : 'Upload failed.'
      cancel.textContent = 'Dismiss'
      cancel.setAttribute('aria-label', `Dismiss failed upload of ${file.name}`)
      cancel.removeEventListener('click', abort)
      cancel.addEventListener('click', () => row.remove())
    })
  }

  /** @param {Iterable<File>} files */
  const uploadAll = (files) => { for (const f of files) upload(f) }

  button.addEventListener('click', () => fileInput.click())
  fileInput.addEventListener('change', () => {
    uploadAll(fileInput.files ?? [])
    fileInput.value = ''
  })

  /** @param {DragEvent} event */
  const carriesFiles = (event) => event.dataTransfer?.types.includes('Files') ?? false
  main.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return
    dragDepth += 1
    overlay.hidden = false
  })
  main.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy'
  })
  main.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return
    dragDepth = Math.max(0, dragDepth - 1)
    if (dragDepth === 0) overlay.hidden = true
  })
  main.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    dragDepth = 0
    overlay.hidden = true
    uploadAll(event.dataTransfer?.files ?? [])
  })

  composerInput.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])]
    if (files.length === 0) return // plain text: let the browser paste it
    event.preventDefault()
    uploadAll(files)
  })
}
