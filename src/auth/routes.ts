// POST /api/auth/register, /login, /logout and GET /api/me.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errors } from '../errors.js'
import { authErrors, ErrorResponse, UserSchema } from '../schemas.js'
import { whenUnlocked } from '../storage/index.js'
import { clearMediaCookie, setMediaCookie } from './media-cookie.js'
import { Credentials, LoginBody, TokenResponse } from './schemas.js'

const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { storage, passwords, config } = app

  // The password form (`username=…&password=…`), for curl users and plain HTML forms.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))))

  app.post('/api/auth/register', {
    // JSON only: the password form is for logging in. A form post needs no CORS preflight, so any
    // web page could otherwise make its visitors' browsers create accounts.
    onRequest: async (request) => {
      if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
        throw errors.unsupportedMediaType('Send JSON (Content-Type: application/json).')
      }
    },
    schema: {
      tags: ['auth'],
      summary: 'Create an account and get a token',
      body: Credentials,
      // 503: too many passwords waiting to be hashed (src/auth/passwords.ts).
      response: { 201: TokenResponse, 400: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }
    },
    config: config.registrationsPerHour > 0
      ? { rateLimit: { max: config.registrationsPerHour, timeWindow: '1 hour' } }
      : { rateLimit: false }
  }, async (request, reply) => {
    const { username, password } = request.body
    if (await storage.users.findForLogin(username) !== null) throw errors.usernameTaken()
    const hash = await passwords.hash(password)
    const user = await whenUnlocked(() => storage.users.create(username, hash), config.lockWaitMs)
    if (user === null) throw errors.usernameTaken() // taken while we were hashing
    request.log.info({ event: 'user_registered', userId: user.id }, 'user registered')
    const issued = app.issueToken(user)
    setMediaCookie(request, reply, issued.token, issued.expiresAt)
    return reply.code(201).send(issued)
  })

  app.post('/api/auth/login', {
    schema: {
      tags: ['auth'],
      summary: 'Log in with JSON or the password form',
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      body: LoginBody,
      response: { 200: TokenResponse, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    // Throttled before the password is looked at: during a wait the right password gets a 429 too.
    // request.ip is the socket's address: no trustProxy, so X-Forwarded-For cannot change it.
    const attempt = await app.loginThrottle.attempt(username, request.ip)
    const found = await storage.users.findForLogin(username)
    // Logs name accounts by id: people type passwords into the username field, so an unknown
    // name is never written down.
    const who = { userId: found?.user.id ?? null }
    if (!attempt.allowed && attempt.scope === 'unavailable') {
      throw errors.unavailable('Logins are paused for a moment (the login throttle cannot be checked); try again shortly.', attempt.retryAfterMs / 1000)
    }
    if (!attempt.allowed) {
      request.log.warn({ event: 'login_throttled', ...who, scope: attempt.scope, retryAfterMs: attempt.retryAfterMs }, 'login throttled')
      throw errors.rateLimited(attempt.retryAfterMs / 1000, 'Too many failed logins; wait before trying again.')
    }
    // Unknown users cost a bcrypt comparison too, so timing does not tell who exists.
    const ok = found === null ? await passwords.verifyNobody(password) : await passwords.verify(password, found.passwordHash)
    if (!ok || found === null) {
      request.log.warn({ event: 'login_failed', ...who }, 'failed login')
      throw errors.invalidCredentials()
    }
    attempt.succeeded()
    request.log.info({ event: 'login_succeeded', userId: found.user.id }, 'logged in')
    const issued = app.issueToken(found.user)
    setMediaCookie(request, reply, issued.token, issued.expiresAt)
    return issued
  })

  app.post('/api/auth/logout', {
    onRequest: app.authenticate,
    schema: { tags: ['auth'], summary: 'Revoke this token and close its sockets', response: { 204: z.null(), ...authErrors } }
  }, async (request, reply) => {
    await whenUnlocked(() => storage.tokens.revoke(request.user.jti, request.user.exp), config.lockWaitMs)
    app.events.emit('revoked', request.user.jti)
    clearMediaCookie(request, reply)
    return reply.code(204).send(null)
  })

  app.get('/api/me', {
    onRequest: app.authenticate,
    schema: { tags: ['auth'], summary: 'Who this token belongs to', response: { 200: z.object({ user: UserSchema }), ...authErrors } }
  }, async (request) => {
    const { id, username, createdAt, isAdmin } = request.user // authenticate looked the user up already
    return { user: { id, username, createdAt, isAdmin } }
  })
}

export default authRoutes
