// REST client for /api (shared/API.md). Every failure becomes an ApiError with the server's code.

/** @typedef {import('./types.js').Session} Session */
/** @typedef {import('./types.js').Room} Room */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').Author} Author */
/** @typedef {import('./types.js').Member} Member */
/** @typedef {import('./types.js').AuditEntry} AuditEntry */
/** @typedef {{ path: string, message: string }} FieldError */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code
   * @param {string} message
   * @param {unknown} [details]
   * @param {number | null} [retryAfter] seconds, from a 429's Retry-After header
   */
  constructor (status, code, message, details, retryAfter = null) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter
  }

  /** The per-field messages of a validation_failed error. @returns {FieldError[]} */
  get fieldErrors () {
    if (this.code !== 'validation_failed' || !Array.isArray(this.details)) return []
    return this.details.filter((d) => d && typeof d.path === 'string' && typeof d.message === 'string')
  }
}

/**
 * Turn a non-2xx response into an ApiError.
 * @param {number} status
 * @param {string} text the response body
 * @param {string | null} retryAfter
 */
export function errorFromResponse (status, text, retryAfter) {
  let body = null
  try { body = JSON.parse(text) } catch { /* not JSON: fall through to a generic message */ }
  const err = body && typeof body === 'object' ? body.error : null
  const seconds = retryAfter ? Number(retryAfter) : NaN
  return new ApiError(
    status,
    typeof err?.code === 'string' ? err.code : 'http_' + status,
    typeof err?.message === 'string' ? err.message : `The server answered with status ${status}.`,
    err?.details,
    Number.isFinite(seconds) ? seconds : null
  )
}

export const networkError = () =>
  new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.')

/**
 * @param {{ getToken: () => string | null, onUnauthorized: () => void }} hooks
 *   onUnauthorized runs when a request made with a token gets 401 (expired or revoked).
 */
export function createApi ({ getToken, onUnauthorized }) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   */
  async function request (method, path, body) {
    const token = getToken()
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let res
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch {
      throw networkError()
    }
    const text = await res.text()
    if (!res.ok) {
      if (res.status === 401 && token) onUnauthorized()
      throw errorFromResponse(res.status, text, res.headers.get('Retry-After'))
    }
    return text ? JSON.parse(text) : null
  }

  return {
    /** @param {string} username @param {string} password @returns {Promise<Session>} */
    register: (username, password) => request('POST', '/api/auth/register', { username, password }),
    /** @param {string} username @param {string} password @returns {Promise<Session>} */
    login: (username, password) => request('POST', '/api/auth/login', { username, password }),
    /** @returns {Promise<void>} */
    logout: () => request('POST', '/api/auth/logout'),
    /** @returns {Promise<{ user: import('./types.js').User }>} */
    me: () => request('GET', '/api/me'),
    /** @returns {Promise<Room[]>} */
    rooms: async () => (await request('GET', '/api/rooms')).rooms,
    /** @param {string} name @param {'public' | 'private'} [visibility] @returns {Promise<Room>} */
    createRoom: async (name, visibility = 'public') => (await request('POST', '/api/rooms', { name, visibility })).room,
    /** @param {number} roomId @param {{ name?: string, topic?: string, archived?: boolean }} patch @returns {Promise<Room>} */
    updateRoom: async (roomId, patch) => (await request('PATCH', `/api/rooms/${roomId}`, patch)).room,
    /** The DM with these people (the caller is added). @param {number[]} userIds @returns {Promise<Room>} */
    openDm: async (userIds) => (await request('POST', '/api/dms', { userIds })).room,
    /** @param {string} q @returns {Promise<Author[]>} */
    findPeople: async (q) => (await request('GET', `/api/users?${new URLSearchParams({ q, limit: '10' })}`)).users,
    /** @param {number} roomId @returns {Promise<Member[]>} */
    members: async (roomId) => (await request('GET', `/api/rooms/${roomId}/members`)).members,
    /** @param {number} roomId @param {number} userId @returns {Promise<Member>} */
    addMember: async (roomId, userId) => (await request('POST', `/api/rooms/${roomId}/members`, { userId })).member,
    /** @param {number} roomId @param {number} userId @param {string} role @returns {Promise<Member>} */
    setRole: async (roomId, userId, role) => (await request('PATCH', `/api/rooms/${roomId}/members/${userId}`, { role })).member,
    /** Leave (yourself) or kick. @param {number} roomId @param {number} userId @returns {Promise<void>} */
    removeMember: (roomId, userId) => request('DELETE', `/api/rooms/${roomId}/members/${userId}`),
    /** @param {number} roomId @param {number} userId @returns {Promise<void>} */
    ban: (roomId, userId) => request('PUT', `/api/rooms/${roomId}/bans/${userId}`, {}),
    /** @param {number} roomId @returns {Promise<AuditEntry[]>} */
    audit: async (roomId) => (await request('GET', `/api/rooms/${roomId}/audit?limit=50`)).entries,
    /**
     * @param {number} roomId
     * @param {{ before?: number, after?: number, limit?: number }} [page]
     * @returns {Promise<{ messages: Message[], hasMore: boolean }>}
     */
    messages: (roomId, page = {}) => request('GET', `/api/rooms/${roomId}/messages?${queryOf(page)}`),
    /**
     * The page centred on one message (opening a search hit, jumping to a reply's parent).
     * @param {number} roomId @param {number} messageId @param {number} limit
     * @returns {Promise<{ messages: Message[], hasMoreBefore: boolean, hasMoreAfter: boolean }>}
     */
    around: (roomId, messageId, limit) => request('GET', `/api/rooms/${roomId}/messages?${queryOf({ around: messageId, limit })}`),
    /**
     * @param {{ q: string, roomId?: number, before?: number, limit?: number }} params
     * @returns {Promise<{ results: SearchResult[], hasMore: boolean }>}
     */
    search: (params) => request('GET', `/api/search?${queryOf(params)}`),
    /**
     * Every message changed since a room's seq, in its current state.
     * @param {number} roomId @param {number} since @param {number} limit
     * @returns {Promise<{ messages: Message[], lastSeq: number, hasMore: boolean }>}
     */
    changes: (roomId, since, limit) => request('GET', `/api/rooms/${roomId}/changes?since=${since}&limit=${limit}`),
    /** @param {number} roomId @param {number} messageId @param {string} body @returns {Promise<Message>} */
    editMessage: async (roomId, messageId, body) => (await request('PATCH', `/api/rooms/${roomId}/messages/${messageId}`, { body })).message,
    /** @param {number} roomId @param {number} messageId @returns {Promise<void>} */
    deleteMessage: (roomId, messageId) => request('DELETE', `/api/rooms/${roomId}/messages/${messageId}`),
    /** Add (on) or take back (off) one reaction. @param {number} roomId @param {number} messageId @param {string} emoji @param {boolean} on @returns {Promise<Message>} */
    react: async (roomId, messageId, emoji, on) =>
      (await request(on ? 'PUT' : 'DELETE', `/api/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`)).message,
    /** @param {number} roomId @param {number} messageId @param {boolean} on @returns {Promise<Message>} */
    pin: async (roomId, messageId, on) => (await request(on ? 'PUT' : 'DELETE', `/api/rooms/${roomId}/pins/${messageId}`)).message,
    /** Most recently pinned first. @param {number} roomId @returns {Promise<Message[]>} */
    pins: async (roomId) => (await request('GET', `/api/rooms/${roomId}/pins`)).messages,
    /** @param {number} roomId @param {boolean} on @returns {Promise<void>} */
    mute: (roomId, on) => request(on ? 'PUT' : 'DELETE', `/api/rooms/${roomId}/mute`),
    /** @param {number} roomId @returns {Promise<{ user: Author, lastReadId: number, at: string }[]>} */
    receipts: async (roomId) => (await request('GET', `/api/rooms/${roomId}/receipts`)).receipts,
    /**
     * Multipart upload through XMLHttpRequest, because fetch() cannot report upload progress.
     * @param {number} roomId
     * @param {File} file
     * @param {(fraction: number) => void} onProgress
     * @returns {{ done: Promise<Message>, abort: () => void }}
     */
    upload: (roomId, file, onProgress) => {
      const xhr = new XMLHttpRequest()
      const done = new Promise((resolve, reject) => {
        xhr.open('POST', `/api/rooms/${roomId}/uploads`)
        const token = getToken()
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
        xhr.setRequestHeader('Accept', 'application/json')
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) {
            try { resolve(JSON.parse(xhr.responseText).message) } catch { reject(networkError()) }
            return
          }
          if (xhr.status === 401 && token) onUnauthorized()
          reject(errorFromResponse(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')))
        }
        xhr.onerror = () => reject(networkError())
        xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'))
        const form = new FormData()
        form.append('file', file, file.name || 'upload')
        xhr.send(form)
      })
      return { done, abort: () => xhr.abort() }
    }
  }
}

/** @param {Record<string, string | number | undefined>} params */
function queryOf (params) {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value))
  return query
}

/**
 * @typedef {{ message: Message, snippet: string, highlights: Array<{ start: number, end: number }> }} SearchResult
 */

/** @typedef {ReturnType<typeof createApi>} Api */
