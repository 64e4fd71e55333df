// Authentication: JWTs (HS256 only) with @fastify/jwt, revocation by `jti`, and bcrypt on worker
// threads. Decorates `authenticate` for routes, `verifyAccessToken` for the WebSocket upgrade,
// `issueToken` and `passwords` for the auth routes.
// @see https://github.com/fastify/fastify-jwt
import fastifyJwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { randomBytes } from 'node:crypto'
import { errors } from '../errors.js'
import type { User } from '../storage/index.js'
import { createPasswordHasher, type PasswordHasher } from './passwords.js'

/** The user behind a verified token (looked up once per request or socket), and the token's claims. */
export interface AuthUser extends User {
  /** The token's id, for logout. */
  jti: string
  /** When the token expires, in seconds since the epoch. */
  exp: number
}

export interface IssuedToken {
  token: string
  tokenType: 'bearer'
  expiresAt: string
  user: User
}

interface TokenPayload { sub: string, jti: string }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenPayload
    user: AuthUser
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>
    /** The user behind a token, or an `unauthorized` AppError. */
    verifyAccessToken: (token: string) => Promise<AuthUser>
    issueToken: (user: User) => IssuedToken
    passwords: PasswordHasher
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/i

export default fp(async (app) => {
  const { config, storage } = app
  await app.register(fastifyJwt, {
    secret: config.secretKey,
    // Pin the algorithm: fast-jwt accepts every algorithm unless told otherwise.
    sign: { algorithm: 'HS256', expiresIn: `${config.tokenTtlMinutes}m` },
    verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'jti', 'exp'] }
  })
  const passwords = createPasswordHasher({ cost: config.bcryptCost })
  app.decorate('passwords', passwords)
  app.addHook('onClose', async () => passwords.close())

  async function verifyAccessToken (token: string): Promise<AuthUser> {
    let payload: TokenPayload & { exp: number }
    try {
      payload = app.jwt.verify<TokenPayload & { exp: number }>(token)
    } catch {
      throw errors.unauthorized('Your session is not valid or has expired; log in again.')
    }
    const id = Number(payload.sub)
    if (!Number.isSafeInteger(id) || typeof payload.jti !== 'string') throw errors.unauthorized('Your session has ended; log in again.')
    // Side by side: on PostgreSQL, one round trip for every authenticated request instead of two.
    const [revoked, user] = await Promise.all([storage.tokens.isRevoked(payload.jti), storage.users.findById(id)])
    if (revoked || user === null) throw errors.unauthorized('Your session has ended; log in again.')
    return { ...user, jti: payload.jti, exp: payload.exp }
  }

  app.decorate('verifyAccessToken', verifyAccessToken)
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const match = BEARER.exec(request.headers.authorization ?? '')
    if (match === null) throw errors.unauthorized()
    request.user = await verifyAccessToken(match[1]!)
  })

  app.decorate('issueToken', (user: User): IssuedToken => {
    const token = app.jwt.sign({ sub: String(user.id), jti: randomBytes(16).toString('base64url') })
    const { exp } = app.jwt.decode<{ exp: number }>(token)!
    return { token, tokenType: 'bearer', expiresAt: new Date(exp * 1000).toISOString(), user }
  })
}, { name: 'auth', fastify: '5.x', dependencies: ['core'] })
