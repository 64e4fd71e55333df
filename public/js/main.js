// Entry point: show the login form, or start the chat for a saved session.
// Ending a session (log out, expiry, revoked token) reloads the page, so nothing of the previous
// user's state, DOM or timers survives into the next session.

import { createApi } from './api.js'
import { createChat } from './chat.js'
import { createNotifier } from './notifications.js'
import { forgetOutbox } from './outbox.js'
import { clearSession, loadSession, msUntilExpiry, saveSession } from './session.js'
import { createSocket } from './socket.js'
import { createStore } from './store.js'
import { byId } from './lib/dom.js'
import { avatar } from './views/message-item.js'
import { createAuthView } from './views/auth-view.js'
import { createComposerView } from './views/composer-view.js'
import { createConnectionView } from './views/connection-view.js'
import { createDrawer } from './views/drawer.js'
import { createEmojiPicker } from './views/emoji-picker.js'
import { createLightbox } from './views/lightbox.js'
import { createMentionSuggest } from './views/mention-suggest.js'
import { createMessagesView } from './views/messages-view.js'
import { createPeopleDialog } from './views/people-dialog.js'
import { createPresenceView } from './views/presence-view.js'
import { createReplyBar } from './views/reply-bar-view.js'
import { createRoomMenuView } from './views/room-menu-view.js'
import { createRoomSettingsView } from './views/room-settings-view.js'
import { createRoomsView } from './views/rooms-view.js'
import { createSearchView } from './views/search-view.js'
import { createSeenByView } from './views/seen-by-view.js'
import { createUploadsView } from './views/uploads-view.js'

/** @typedef {import('./types.js').Session} Session */

const NOTE_KEY = 'secure-chat.note'
const EXPIRED_NOTE = 'Your session has expired. Please log in again.'
const ENDED_NOTE = 'Your session has expired or was ended elsewhere. Please log in again.'
const MAX_TIMER_MS = 2 ** 31 - 1

/** @type {Session | null} */
let session = null
/** @type {(() => void) | null} */
let stopChat = null

const api = createApi({
  getToken: () => session?.token ?? null,
  onUnauthorized: () => endSession(ENDED_NOTE)
})

/** @param {string} note shown above the login form after the reload */
function endSession (note) {
  if (!session) return
  session = null
  stopChat?.()
  clearSession()
  sessionStorage.setItem(NOTE_KEY, note)
  location.reload()
}

/** @param {Session} current */
function startChat (current) {
  session = current
  const user = current.user
  const store = createStore()
  store.state.me = user
  /** @type {import('./chat.js').Chat} */
  let chat
  const socket = createSocket({
    getToken: () => session?.token ?? null,
    onFrame: (frame) => chat.onFrame(frame),
    onState: (state, retryInMs) => {
      store.state.connection = state
      if (state !== 'online') chat.onDisconnected()
      store.emit('connection', retryInMs)
    },
    onUnauthorized: () => endSession(ENDED_NOTE),
    checkAuth: () => api.me()
  })
  const connection = createConnectionView({ store, reconnectNow: () => socket.reconnectNow() })
  const notifier = createNotifier({ onOpenRoom: (roomId) => chat.selectRoom(roomId) })
  chat = createChat({ store, api, socket, session: current, onLiveMessage: notifier.notify, onNotice: connection.showNotice })

  const drawer = createDrawer()
  const lightbox = createLightbox()
  const messages = createMessagesView({ store, chat, onOpenImage: lightbox.open })
  const composer = createComposerView({ store, chat, beforeSend: messages.scrollToBottom })
  createRoomsView({
    store,
    chat,
    onPicked: () => {
      drawer.close()
      if (window.matchMedia('(max-width: 767px)').matches) byId('message-scroller', HTMLDivElement).focus()
    }
  })
  createPresenceView({ store })
  createReplyBar({ store, chat, input: composer.input })
  createMentionSuggest({ api, input: composer.input })
  createRoomMenuView({ store, chat, jumpTo: messages.jumpTo })
  createSeenByView({ store, chat })
  createPeopleDialog({ api, chat, me: user, onOpened: () => drawer.close() })
  createRoomSettingsView({ store, api, me: user })
  createSearchView({ store, api, chat, onNotice: connection.showNotice })
  createEmojiPicker({ onPick: composer.insertAtCaret })
  createUploadsView({ store, chat, api, beforeSend: messages.scrollToBottom })

  byId('me-name', HTMLSpanElement).textContent = user.username
  byId('me-avatar', HTMLSpanElement).replaceWith(avatar(user.username, 'me-avatar'))
  byId('logout-button', HTMLButtonElement).addEventListener('click', async () => {
    // Stop first: the server closes our socket with 4001, which must not read as "expired".
    stopChat?.()
    try { await api.logout() } catch { /* the local session ends either way */ }
    forgetOutbox(user.id)
    endSession('You are logged out.')
  })

  const expiry = setTimeout(() => endSession(EXPIRED_NOTE), Math.min(msUntilExpiry(current), MAX_TIMER_MS))
  stopChat = () => {
    clearTimeout(expiry)
    connection.stop()
    chat.stop()
  }

  byId('chat-view', HTMLDivElement).hidden = false
  chat.start().catch((err) => connection.showNotice(err instanceof Error ? err.message : String(err)))
  if (!window.matchMedia('(max-width: 767px)').matches) composer.focus()
}

const auth = createAuthView({
  api,
  onSession: (fresh) => {
    saveSession(fresh)
    auth.hide()
    startChat(fresh)
  }
})

const saved = loadSession()
const note = sessionStorage.getItem(NOTE_KEY)
sessionStorage.removeItem(NOTE_KEY)
if (saved.session) startChat(saved.session)
else auth.show(saved.expired ? EXPIRED_NOTE : note ?? '')
