// "Connecting…" / "Reconnecting…" banner with a countdown and Retry now; short notices for errors.

import { byId } from '../lib/dom.js'

/** @typedef {import('../store.js').Store} Store */

const NOTICE_MS = 8_000
const CONNECTING_QUIET_MS = 1_000

/** @param {{ store: Store, reconnectNow: () => void }} deps */
export function createConnectionView ({ store, reconnectNow }) {
  const banner = byId('connection-banner', HTMLDivElement)
  const text = byId('connection-text', HTMLSpanElement)
  const retry = byId('reconnect-now', HTMLButtonElement)
  const notice = byId('notice', HTMLDivElement)
  const noticeText = byId('notice-text', HTMLSpanElement)
  byId('notice-close', HTMLButtonElement).addEventListener('click', () => { notice.hidden = true })
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let countdown
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let noticeTimer
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let connectingTimer

  retry.addEventListener('click', reconnectNow)

  /** @param {number} [retryInMs] */
  function render (retryInMs) {
    clearInterval(countdown)
    clearTimeout(connectingTimer)
    const state = store.state.connection
    document.body.dataset.connection = state
    banner.hidden = state !== 'reconnecting'
    if (state === 'connecting') {
      // Usually connected within a blink: only say so when it takes a moment.
      text.textContent = 'Connecting…'
      retry.hidden = true
      connectingTimer = setTimeout(() => { banner.hidden = false }, CONNECTING_QUIET_MS)
      return
    }
    if (state !== 'reconnecting') return
    retry.hidden = false
    if (!retryInMs) {
      text.textContent = navigator.onLine ? 'Reconnecting…' : 'You are offline. Reconnecting when the network is back…'
      return
    }
    const at = Date.now() + retryInMs
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((at - Date.now()) / 1000))
      text.textContent = `Connection lost. Reconnecting${seconds > 0 ? ` in ${seconds} s` : ''}…`
    }
    tick()
    countdown = setInterval(tick, 1000)
  }

  /** @param {string} message */
  function showNotice (message) {
    noticeText.textContent = message
    notice.hidden = false
    clearTimeout(noticeTimer)
    noticeTimer = setTimeout(() => { notice.hidden = true }, NOTICE_MS)
  }

  function stop () {
    clearInterval(countdown)
    clearTimeout(connectingTimer)
    clearTimeout(noticeTimer)
    notice.hidden = true
  }

  store.on('connection', render)
  return { showNotice, stop }
}
