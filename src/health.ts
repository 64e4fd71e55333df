// GET /api/health: 200 while the database answers, 503 when it does not, 507 when the disk is
// full (the last message commit failed for lack of space, or the file system holding the database
// or MEDIA_DIR has less than 1 MiB left). For the operator it also tells the database state, the
// free space where uploads go (MEDIA_DIR) and where the database is, and the uptime; nothing in it
// is secret (no paths, no versions).
import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errors } from './errors.js'
import { ErrorResponse } from './schemas.js'
import { mediaState } from './uploads/media-dir.js'

/** Less room than this left is a full disk: a commit, a checkpoint or an upload would fail. */
const FULL_BELOW_BYTES = 1024 * 1024

const Disk = z.object({ freeBytes: z.number(), totalBytes: z.number() }).nullable()

const Health = z.object({
  status: z.literal('ok'),
  database: z.literal('ok'),
  /** Free and total bytes on the file system holding MEDIA_DIR; null when it cannot be read. */
  disk: Disk,
  /** The same for the file system holding the database. */
  databaseDisk: Disk,
  /** Whether uploads can be stored in MEDIA_DIR; anything but ok means uploads answer 503 (chat goes on, so the status stays 200). */
  media: z.enum(['ok', 'missing', 'read_only', 'not_a_directory']),
  /** Several nodes: whether this node's Redis connection is up (chat goes on without it, so the status stays 200); null for one node. */
  redis: z.enum(['ok', 'down']).nullable(),
  uptimeSeconds: z.number(),
  /** Stored rows seen since start that no key decrypts (each logged once). */
  unreadableRows: z.number().int(),
  /** Messages in the search index, and in all: they differ while older messages are indexed in the background. */
  searchIndex: z.object({ indexed: z.number().int(), total: z.number().int() })
})

async function space (dir: string): Promise<z.infer<typeof Disk>> {
  try {
    const fs = await statfs(dir)
    return { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize }
  } catch {
    return null
  }
}

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const startedAt = performance.now()
  const { config } = app
  app.get('/api/health', {
    schema: {
      tags: ['health'],
      summary: 'Liveness, database, disk space and uptime',
      response: { 200: Health, 503: ErrorResponse, 507: ErrorResponse }
    }
  }, async () => {
    if (!await app.storage.healthy()) throw errors.unavailable('The database is not answering.')
    const [disk, databaseDisk] = await Promise.all([
      space(config.mediaDir),
      config.database.kind === 'postgres' || config.databasePath === ':memory:' ? null : space(dirname(config.databasePath))
    ])
    const full = (d: z.infer<typeof Disk>): boolean => d !== null && d.freeBytes < FULL_BELOW_BYTES
    if (app.messageService.storageFull || full(databaseDisk)) {
      throw errors.insufficientStorage('The disk holding the database is full: messages cannot be stored. Free some space.')
    }
    if (full(disk)) throw errors.insufficientStorage('The disk holding MEDIA_DIR is full: uploads cannot be stored. Free some space.')
    const [media, searchIndex] = await Promise.all([mediaState(config.mediaDir), app.searchIndex.progress()])
    return {
      status: 'ok' as const, database: 'ok' as const, disk, databaseDisk, media,
      redis: app.redis === null ? null : app.redis.client.status === 'ready' ? 'ok' as const : 'down' as const,
      uptimeSeconds: Math.round((performance.now() - startedAt) / 1000), unreadableRows: app.storage.unreadableRows(), searchIndex
    }
  })
}

export default healthRoutes
