// The cookie that lets the browser load attachments of private rooms and DMs (<img src>, <video>
// cannot send an Authorization header). It holds the same token, is HttpOnly (no script reads
// it), SameSite=Strict (no other site's page sends it) and Path=/media (it reaches nothing else:
// every state-changing route still needs the bearer token, so the cookie opens no CSRF door).
import type { FastifyReply, FastifyRequest } from 'fastify'

export const MEDIA_COOKIE = 'chat_media'

const attributes = (request: FastifyRequest): string =>
  `Path=/media; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`

/** Set on register and login, for as long as the token lives. */
export function setMediaCookie (request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: string): void {
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000))
  reply.header('set-cookie', `${MEDIA_COOKIE}=${token}; Max-Age=${maxAge}; ${attributes(request)}`)
}

/** Cleared on logout (the token is revoked anyway). */
export function clearMediaCookie (request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', `${MEDIA_COOKIE}=; Max-Age=0; ${attributes(request)}`)
}

/** The token the request carries: the Authorization header first, else the cookie. */
export function mediaToken (request: FastifyRequest): string | null {
  const header = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(request.headers.authorization ?? '')
  if (header !== null) return header[1]!
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2)
    if (name === MEDIA_COOKIE && value !== undefined && /^[A-Za-z0-9_.-]+$/.test(value)) return value
  }
  return null
}
