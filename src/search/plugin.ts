// Search: the route, and the background indexing of what the index lacks (messages from before
// search, imports, all of it after a key change). The indexing starts once the server is ready,
// runs in small batches beside chat, logs its progress, and stops when the server closes.
// GET /api/health reports `searchIndex` through `app.searchIndex.progress()`.
import fp from 'fastify-plugin'
import { indexMessages, resetIfKeyChanged } from './backfill.js'
import { searchRoutes } from './routes.js'
import { createSearchService } from './service.js'

declare module 'fastify' {
  interface FastifyInstance {
    searchIndex: {
      /** Messages in the index and in all; counted at most every few seconds. */
      progress: () => Promise<{ indexed: number, total: number }>
      /** Settles when the background indexing has finished (or stopped). */
      readonly backfilled: Promise<void>
    }
  }
}

/** Health is polled; on PostgreSQL counting two tables of a large database takes a while. */
const PROGRESS_TTL_MS = 2000
/** Between batches: the event loop and the database are chat's first. */
const PAUSE_MS = 20
const RETRY_MS = 5000
const LOG_EVERY_MS = 10_000

export default fp(async (app) => {
  const { storage, searchKeys, config, liveIndex } = app
  let counted: { at: number, value: Promise<{ indexed: number, total: number }> } | null = null
  const progress = async (): Promise<{ indexed: number, total: number }> => {
    // What this node sent a moment ago counts as indexed, as it is for searching.
    await liveIndex?.settled()
    if (counted === null || performance.now() - counted.at > PROGRESS_TTL_MS) {
      counted = { at: performance.now(), value: storage.search.progress() }
      counted.value.catch(() => { counted = null })
    }
    return await counted.value
  }

  const stop = new AbortController()
  let finished!: () => void
  const backfilled = new Promise<void>((resolve) => { finished = resolve })
  app.decorate('searchIndex', { progress, backfilled })

  /** @param emptied the index was emptied for another key before the server took requests */
  async function backfill (emptied: boolean): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        const rebuilt = (await resetIfKeyChanged(storage, searchKeys)) || emptied
        counted = null
        // A new database has nothing to rebuild: its first start stays quiet (plain start-up lines only).
        if (rebuilt && (await progress()).total > 0) app.log.warn('search index: made with another encryption key (or none yet); rebuilding it in the background')
        const start = await progress()
        if (start.indexed >= start.total || config.searchBackfillBatch === 0) {
          if (start.indexed < start.total) app.log.warn(`search index: ${start.indexed} of ${start.total} messages indexed; background indexing is off (SEARCH_BACKFILL_BATCH=0): run npm run reindex`)
          return
        }
        app.log.info(`search index: ${start.indexed} of ${start.total} messages indexed; indexing the rest in the background`)
        let logged = performance.now()
        const startedAt = logged
        const written = await indexMessages(storage, searchKeys, {
          batchSize: config.searchBackfillBatch,
          pauseMs: PAUSE_MS,
          signal: stop.signal,
          onBatch: (done) => {
            counted = null
            if (performance.now() - logged < LOG_EVERY_MS) return
            logged = performance.now()
            app.log.info(`search index: ${start.indexed + done} of ${start.total} messages indexed`)
          }
        })
        counted = null
        const seconds = (performance.now() - startedAt) / 1000
        if (!stop.signal.aborted) app.log.info(`search index: done, ${written} messages indexed in ${seconds.toFixed(1)} s`)
        return
      } catch (error) {
        if (stop.signal.aborted) return
        // A locked database or a lost connection: chat goes on, and so does this, a little later.
        app.log.warn({ err: error }, `search index: indexing failed; trying again in ${RETRY_MS / 1000} s`)
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
      }
    }
  }

  let running: Promise<void> | null = null
  app.addHook('onReady', async () => {
    if (!config.searchIndex) {
      finished()
      return
    }
    // Emptied before the first request, not beside it: a message sent meanwhile would lose its
    // tokens to the reset (the backfill would write them again, but a search before that would miss it).
    let emptied = false
    try {
      emptied = await resetIfKeyChanged(storage, searchKeys)
    } catch {
      // A locked database or a lost connection: the background loop below tries again and says so.
    }
    running = backfill(emptied).finally(finished)
  })
  app.addHook('preClose', async () => {
    stop.abort()
    await running // null when the server never got ready
    finished()
  })

  await app.register(searchRoutes(config.searchIndex ? createSearchService(storage, searchKeys, liveIndex) : null))
}, { name: 'search', fastify: '5.x', dependencies: ['core'] })
