// Security headers (@fastify/helmet), known Host names only (DNS rebinding, see host-check.ts),
// CORS for the listed origins only (@fastify/cors, never reflecting), and the login throttle, as
// app-wide decorators and hooks.
// The CSP suits plain HTTP on a LAN address: no `upgrade-insecure-requests` (the browser would
// rewrite /app.js to https:// and the page would load blank) and no HSTS (ignored over HTTP, and a
// trap if TLS is added later by a proxy that sets its own). Routes may override a header: helmet
// sets them in onRequest, and a handler's reply.header() wins (the /media sandbox CSP does).
// @see https://github.com/fastify/fastify-helmet
import fastifyCors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import { errors } from '../errors.js'
import { hostChecker } from './host-check.js'
import { sharedLoginThrottle, type LoginGate } from '../bus/limits.js'
import { createLoginThrottle } from './login-throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    loginThrottle: LoginGate
  }
}

/** The page's policy. Swagger UI at /docs loads only its own files, so it works under it too. */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[] | null>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'upgrade-insecure-requests': null
}

/** The header text helmet would make from these directives. */
function cspHeader (directives: Readonly<Record<string, readonly string[] | null>>): string {
  return Object.entries(directives).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v!.join(' ')}`).join(';')
}

export default fp(async (app) => {
  await app.register(fastifyHelmet, {
    // The page's CSP is set just below, from text made once: @fastify/helmet builds helmet's
    // middleware again on every request, and parsing the CSP directives was most of what that
    // cost (~5 µs a request, a few % of a history page served from memory).
    contentSecurityPolicy: false,
    strictTransportSecurity: false,
    // Browsers ignore COOP on plain-HTTP LAN origins and say so as a console error on every page
    // load; framing is refused by frame-ancestors and X-Frame-Options anyway.
    crossOriginOpenerPolicy: false,
    xFrameOptions: { action: 'deny' }
  })
  // Where helmet set it (on the raw response, in onRequest), so a route's own still wins (/media).
  const pageCsp = cspHeader(CSP_DIRECTIVES)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.raw.setHeader('content-security-policy', pageCsp)
    done()
  })
  // Swagger UI (/docs) loads only its own files, but its bundle injects a <style> element: allow
  // inline styles there, and only there (no scripts; the page holds no user content).
  const docsCsp = cspHeader({ ...CSP_DIRECTIVES, 'style-src': ["'self'", "'unsafe-inline'"] })
  app.addHook('onSend', async (request, reply) => {
    if (request.routeOptions.url?.startsWith('/docs') === true) reply.header('content-security-policy', docsCsp)
  })
  // After helmet, so a refusal still carries the security headers; before everything else. It runs
  // for every route, static files and 404s included, and for the /ws upgrade (a refused upgrade).
  const hostAllowed = hostChecker({ host: app.config.host, corsOrigins: app.config.corsOrigins, allowedHosts: app.config.allowedHosts })
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host
    if (hostAllowed(host)) return
    request.log.warn({ event: 'misdirected_request', host: host?.slice(0, 200) }, 'request for an unknown host name refused')
    // A refused upgrade: @fastify/websocket ends the connection only for requests its own hook
    // (which runs after this one) has marked, and Node no longer manages that socket.
    if (request.headers.upgrade !== undefined) reply.raw.once('finish', () => request.raw.socket.destroy())
    throw errors.misdirected()
  })
  // Pages served elsewhere may call the API only from CORS_ALLOW_ORIGINS (this server's own page
  // needs no CORS). Tokens travel in the Authorization header, never in cookies: no credentials.
  const origins = app.config.corsOrigins
  await app.register(fastifyCors, {
    origin: [...origins], // config refuses "*"
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600
  })
  // Several nodes: the counts live in Redis, so guesses spread over the nodes add up.
  app.decorate('loginThrottle', app.redis === null
    ? createLoginThrottle()
    : sharedLoginThrottle(app.redis, (error) => app.log.error({ err: error }, 'login throttle: Redis did not answer; logins are refused until it does')))
}, { name: 'security', fastify: '5.x', dependencies: ['core'] })
