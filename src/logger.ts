// Request logs without secrets: no Authorization header, no `token` query parameter (the
// WebSocket URL carries one), no passwords.
import type { FastifyServerOptions } from 'fastify'

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
