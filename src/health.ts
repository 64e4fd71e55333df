// GET /api/health: 200 while the database answers, 503 when it does not. For the operator it also
// tells the database state, the free space where uploads go (MEDIA_DIR) and the uptime; nothing
// in it is secret (no paths, no versions).
import { statfs } from 'node:fs/promises'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errors } from './errors.js'
import { ErrorResponse } from './schemas.js'
import { mediaState } from './uploads/media-dir.js'

const Health = z.object({
  status: z.literal('ok'),
  database: z.literal('ok'),
  /** Free and total bytes on the file system holding MEDIA_DIR; null when it cannot be read. */
  disk: z.object({ freeBytes: z.number(), totalBytes: z.number() }).nullable(),
  /** Whether uploads can be stored in MEDIA_DIR; anything but ok means uploads answer 503 (chat goes on, so the status stays 200). */
  media: z.enum(['ok', 'missing', 'read_only', 'not_a_directory']),
  uptimeSeconds: z.number(),
  /** Stored rows seen since start that no key decrypts (each logged once). */
  unreadableRows: z.number().int()
})

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const startedAt = performance.now()
  app.get('/api/health', {
    schema: { tags: ['health'], summary: 'Liveness, database, disk space and uptime', response: { 200: Health, 503: ErrorResponse } }
  }, async () => {
    if (!app.storage.healthy()) throw errors.unavailable('The database is not answering.')
    let disk: z.infer<typeof Health>['disk'] = null
    try {
      const fs = await statfs(app.config.mediaDir)
      disk = { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize }
    } catch {}
    const media = await mediaState(app.config.mediaDir)
    return { status: 'ok' as const, database: 'ok' as const, disk, media, uptimeSeconds: Math.round((performance.now() - startedAt) / 1000), unreadableRows: app.storage.unreadableRows() }
  })
}

export default healthRoutes
