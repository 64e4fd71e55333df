// GET /media/:name: an upload, with the type and name recorded when it was stored, served so that
// nothing uploaded can run in our origin (nosniff, a sandbox CSP, downloads for all but media).
// Byte ranges let a video seek. Names are checked against the exact shape we create before the
// disk is touched, and anything else under /media/ is a 404 here (never public/'s static files).
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { z } from 'zod'
import { mediaToken } from '../auth/media-cookie.js'
import { roomAccess } from '../conversations/access.js'
import { AppError, errors } from '../errors.js'
import { ErrorResponse } from '../schemas.js'
import { contentDisposition, STORED_NAME } from './names.js'
import { parseRange } from './range.js'

/** Shown in the page (inline); everything else is a download. */
const INLINE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif',
  'video/mp4', 'video/webm', 'video/ogg', 'audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/mp4'])

/** On every /media answer, errors included. `sandbox` gives any document an opaque origin with no scripts. */
const MEDIA_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer'
}

/** Streamed, never serialized: the schema is for the OpenAPI document. */
const MediaBytes = z.custom<Readable>().meta({ type: 'string', format: 'binary' })

const serveMedia: FastifyPluginAsyncZod = async (app) => {
  const { storage } = app

  /**
   * False for a public room's file (reachable by its URL, as always). For a private room or DM,
   * true when the request comes from a current member (header or cookie), else a 404 like a
   * missing file: the answer says nothing about what exists.
   */
  async function membersOnly (request: FastifyRequest, roomId: number): Promise<boolean> {
    const room = await storage.rooms.get(roomId)
    if (room !== null && room.kind === 'public') return false
    const token = mediaToken(request)
    if (token === null || room === null) throw errors.notFound()
    try {
      await roomAccess(storage, await app.verifyAccessToken(token), roomId)
    } catch (error) {
      if (error instanceof AppError) throw errors.notFound() // not signed in, or not a member now
      throw error
    }
    return true
  }

  const dir = app.config.mediaDir
  // Route hooks run after helmet's app-wide ones, so these win, on errors too.
  app.addHook('onRequest', async (_request, reply) => { reply.headers(MEDIA_HEADERS) })

  app.get('/media/:name', {
    schema: {
      tags: ['uploads'],
      summary: 'An uploaded file (byte ranges supported); images, audio and video inline, the rest as a download',
      params: z.object({ name: z.string() }),
      response: {
        200: { description: 'The stored bytes, with the stored content type', content: { '*/*': { schema: MediaBytes } } },
        206: { description: 'The byte range asked for (Range)', content: { '*/*': { schema: MediaBytes } } },
        304: z.undefined().describe('Not Modified (If-None-Match)'),
        404: ErrorResponse.describe('`not_found`: no stored file has that name'),
        416: ErrorResponse.describe('`range_not_satisfiable`: the range is not in the file')
      }
    }
  }, async (request, reply) => {
    const { name } = request.params
    // Checked against the exact shape we create before the disk is touched: no traversal, no dotfiles.
    if (!STORED_NAME.test(name)) throw errors.notFound()
    const media = await storage.media.get(name)
    if (media === null) throw errors.notFound()
    const members = media.roomId == null ? false : await membersOnly(request, media.roomId)
    const path = join(dir, name)
    let size: number
    try {
      size = (await stat(path)).size
    } catch {
      throw errors.notFound()
    }

    const etag = `"${name}"`
    reply.headers({
      'content-type': media.mime.startsWith('text/') ? `${media.mime}; charset=utf-8` : media.mime,
      'content-disposition': contentDisposition(INLINE.has(media.mime) ? 'inline' : 'attachment', media.originalName),
      // Stored files never change, so browsers may keep them; `private` keeps shared proxy caches
      // from holding a copy of what was shared in a room.
      // A private room's file is asked for again each time (a member removed since gets a 404).
      'cache-control': members ? 'private, no-cache' : 'private, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      etag
    })
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    const ifRange = request.headers['if-range']
    const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, size) : null
    if (range === 'unsatisfiable') {
      throw new AppError('range_not_satisfiable', undefined, undefined, { 'Content-Range': `bytes */${size}` })
    }
    if (range === null) {
      reply.header('content-length', size)
      return reply.send(createReadStream(path))
    }
    reply.code(206).headers({ 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': range.end - range.start + 1 })
    return reply.send(createReadStream(path, { start: range.start, end: range.end }))
  })

  // Anything else under /media/ (`/media/../x`, `/media//etc/passwd`) is ours to refuse, not public/'s.
  app.get('/media/*', {
    schema: { hide: true }
  }, async () => { throw errors.notFound() })
}

export default serveMedia
