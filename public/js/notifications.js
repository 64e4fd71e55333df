// Desktop notifications for new messages while the tab is hidden. Permission is only asked
// from the "Enable notifications" button; without the API (or outside a secure context, e.g.
// http://<LAN address>) the button stays hidden and a short note says why.

import { byId } from './lib/dom.js'

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').RoomState} RoomState */

/** @param {{ onOpenRoom: (roomId: number) => void }} deps */
export function createNotifier ({ onOpenRoom }) {
  const button = byId('notify-button', HTMLButtonElement)
  const status = byId('notify-status', HTMLParagraphElement)
  const supported = typeof Notification === 'function' && window.isSecureContext

  function render () {
    if (!supported) {
      button.hidden = true
      status.textContent = 'Notifications need HTTPS or localhost.'
      return
    }
    button.hidden = Notification.permission !== 'default'
    status.textContent = Notification.permission === 'granted' ? 'Notifications are on.'
      : Notification.permission === 'denied' ? 'Notifications are blocked in this browser.' : ''
  }

  button.addEventListener('click', async () => {
    if (!supported) return
    try {
      await Notification.requestPermission()
    } finally {
      render()
    }
  })

  /** @param {Message} message @param {RoomState} rs */
  function notify (message, rs) {
    if (!supported || Notification.permission !== 'granted' || document.visibilityState === 'visible') return
    const body = message.body || (message.attachment ? `Shared ${message.attachment.name}` : '')
    try {
      const n = new Notification(`${message.author.username} in #${rs.room.name}`, {
        body: body.length > 160 ? body.slice(0, 157) + '…' : body,
        tag: `room-${rs.room.id}`, // one notification per room, replaced by the next
        icon: '/favicon.svg'
      })
      n.onclick = () => {
        window.focus()
        onOpenRoom(rs.room.id)
        n.close()
      }
    } catch {
      // Some platforms (Android Chrome) only allow notifications from a service worker.
    }
  }

  render()
  return { notify }
}
