// The login session, kept in localStorage so a reload stays logged in until the token expires.

/** @typedef {import('./types.js').Session} Session */

const KEY = 'secure-chat.session'

/** @returns {{ session: Session | null, expired: boolean }} */
export function loadSession () {
  let session = null
  try {
    session = /** @type {Session | null} */ (JSON.parse(localStorage.getItem(KEY) ?? 'null'))
  } catch {
    // Unreadable (hand-edited or from an old version): treat as logged out.
  }
  if (!session || typeof session.token !== 'string' || !session.user) return { session: null, expired: false }
  if (msUntilExpiry(session) <= 0) {
    clearSession()
    return { session: null, expired: true }
  }
  return { session, expired: false }
}

/** @param {Session} session */
export function saveSession (session) {
  localStorage.setItem(KEY, JSON.stringify(session))
}

export function clearSession () {
  localStorage.removeItem(KEY)
}

/** @param {Session} session */
export function msUntilExpiry (session) {
  const expires = Date.parse(session.expiresAt)
  return Number.isNaN(expires) ? 0 : expires - Date.now()
}
