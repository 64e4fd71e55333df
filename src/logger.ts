// Request logs without secrets: no Authorization header, no `token` query parameter (the
// WebSocket URL carries one), no search query (`q`), no passwords.
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

/**
 * The URL with the value of every sensitive query parameter replaced: `token` (the WebSocket URL
 * carries one), `q` (search words) and anything else ending in `token`. The key is compared as
 * the server's query parser would read it, and then some: percent-decoded (twice-encoded too),
 * `+` as a space, any case, `[]` suffixes ignored. A sensitive key hidden in another parameter's
 * value (after `;`, `?` or an encoded `&`) has that whole parameter redacted.
 */
export function redactUrl (url: string): string {
  const start = url.indexOf('?')
  if (start === -1) return url
  const parts = url.slice(start + 1).split('&').map((part) => {
    const equals = part.indexOf('=')
    const rawKey = equals === -1 ? part : part.slice(0, equals)
    if (isSensitive(rawKey)) return `${rawKey}=[redacted]`
    const hidden = decode(part).split(/[&;?]/).slice(1).some((segment) => isSensitive(segment.split('=')[0]!))
    if (!hidden) return part
    return /[&;?=]/.test(decode(rawKey)) ? '[redacted]' : `${rawKey}=[redacted]`
  })
  return `${url.slice(0, start)}?${parts.join('&')}`
}

/** Percent-decoded until nothing changes (at most 3 rounds), byte by byte: enough to read ASCII names. */
function decode (text: string): string {
  let decoded = text
  for (let round = 0; round < 3; round++) {
    const next = decoded.replaceAll('+', ' ').replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    if (next === decoded) break
    decoded = next
  }
  return decoded
}

function isSensitive (rawKey: string): boolean {
  const key = decode(rawKey).toLowerCase().replace(/(\[[^\]]*\])+$/, '').replace(/[^a-z0-9_]/g, '')
  return key === 'q' || key.endsWith('token')
}

export function loggerOptions (level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["sec-websocket-protocol"]', 'password', '*.password', 'token', '*.token'],
      censor: '[redacted]'
    },
    serializers: {
      req: (req: { method: string, url: string, hostname?: string, ip?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.hostname,
        remoteAddress: req.ip
      })
    }
  }
}

/** Polled by monitoring every few seconds: at info they would drown everything else. */
const QUIET_ROUTES = new Set(['/api/health'])

/** What the "websocket closed" line needs of its upgrade, copied out so the request and reply can go. */
interface UpgradeLine { refused: boolean, req: { method: string, url: string, hostname: string, ip: string }, startedAt: number }

/**
 * One line per request, when it completes, holding what Fastify's two lines held (the request:
 * method, URL, host, address; the status and response time); health checks only at debug. An
 * accepted WebSocket upgrade never completes as a response: its line comes when it closes.
 */
export class RequestLog extends LogController {
  readonly #upgrades = new WeakMap<FastifyRequest, UpgradeLine>()

  override incomingRequest (request: FastifyRequest, reply: FastifyReply): void {
    if (request.headers.upgrade?.toLowerCase() !== 'websocket' || this.isLogDisabled(request)) return
    // The listener lives as long as the socket: it keeps a few strings and the request's logger,
    // not the request and reply (with them, every idle socket held its whole HTTP upgrade, about
    // 5 KB). Below info the line is never written, so nothing is kept at all.
    const log = reply.log
    if ((log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') === false) return // pino's; not in Fastify's logger type
    const line: UpgradeLine = {
      refused: false,
      // The URL redacted now: the raw one holds the token.
      req: { method: request.method, url: redactUrl(request.url), hostname: request.hostname, ip: request.ip },
      startedAt: performance.now() // where reply.elapsedTime starts, a few lines of Fastify later
    }
    this.#upgrades.set(request, line)
    request.raw.socket.once('close', () => {
      if (line.refused) return // logged as a response
      log.info({ req: line.req, res: { statusCode: 101 }, responseTime: performance.now() - line.startedAt }, 'websocket closed')
    })
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const upgrade = this.#upgrades.get(request)
    if (upgrade !== undefined) upgrade.refused = true
    if (this.isLogDisabled(request)) return
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) reply.log.error({ ...fields, err: error }, 'request errored')
    else if (QUIET_ROUTES.has(request.routeOptions.url ?? '')) reply.log.debug(fields, 'request completed')
    else reply.log.info(fields, 'request completed')
  }
}
