// Request logs without secrets: no Authorization header, no `token` query parameter (the
// WebSocket URL carries one), no passwords.
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'

export function redactUrl (url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')
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

/**
 * One line per request, when it completes, holding what Fastify's two lines held (the request:
 * method, URL, host, address; the status and response time); health checks only at debug. An
 * accepted WebSocket upgrade never completes as a response: its line comes when it closes.
 */
export class RequestLog extends LogController {
  readonly #completed = new WeakSet<FastifyRequest>()

  override incomingRequest (request: FastifyRequest, reply: FastifyReply): void {
    if (request.headers.upgrade?.toLowerCase() !== 'websocket' || this.isLogDisabled(request)) return
    request.raw.socket.once('close', () => {
      if (this.#completed.has(request)) return // refused: logged as a response
      reply.log.info({ req: request, res: { statusCode: 101 }, responseTime: reply.elapsedTime }, 'websocket closed')
    })
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.#completed.add(request)
    if (this.isLogDisabled(request)) return
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) reply.log.error({ ...fields, err: error }, 'request errored')
    else if (QUIET_ROUTES.has(request.routeOptions.url ?? '')) reply.log.debug(fields, 'request completed')
    else reply.log.info(fields, 'request completed')
  }
}
