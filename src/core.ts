// The app's shared services, as decorators: storage (SQLite or PostgreSQL, by DATABASE_URL), events (after-commit
// notifications), the write queue sends and changes share, the message service and the search
// index's queue of new messages. One onClose so that queued sends and changes are committed, and
// new messages then indexed, before the database closes.
import fp from 'fastify-plugin'
import { FernetRing } from './crypto/fernet.js'
import { CachingRing } from './crypto/plaintext-cache.js'
import { sharedSendLimiter, type SendLimiter } from './bus/limits.js'
import { ChatEvents } from './events.js'
import { createRateLimiter } from './messages/rate-limiter.js'
import { createMentionResolver } from './lifecycle/mentions.js'
import { PageCache, splitPlaintextBudget } from './messages/page-cache.js'
import { createMessageService, type MessageService } from './messages/service.js'
import { createMessageWrites, type MessageWrites } from './messages/writes.js'
import { createLiveIndex, type LiveIndex } from './search/live.js'
import { SearchKeys } from './search/tokens.js'
import { openStore, whenUnlocked, type Message, type Storage } from './storage/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage
    events: ChatEvents
    messageService: MessageService
    /** The group commit every send and every change to a sent message goes through. */
    messageWrites: MessageWrites
    /** Messages per user per second, shared by every way of sending. */
    sendLimiter: SendLimiter
    /** Edits, reactions and pins per user per second (lifecycle/service.ts). */
    changeLimiter: SendLimiter
    /** The search index's keys, derived from the current encryption key (src/search/tokens.ts). */
    searchKeys: SearchKeys
    /** New messages on their way into the search index; null when SEARCH_INDEX=off. */
    liveIndex: LiveIndex | null
    /** Recent history pages (messages/page-cache.ts); null with PLAINTEXT_CACHE_MB=0. */
    historyPages: PageCache | null
  }
}

export default fp(async (app) => {
  const { config } = app
  // The history page cache holds message text too: one budget (PLAINTEXT_CACHE_MB) for both.
  const budget = splitPlaintextBudget(config.plaintextCacheBytes)
  const ring = config.plaintextCacheBytes > 0 ? new CachingRing(config.encryptionKeys, budget.texts) : new FernetRing(config.encryptionKeys)
  const historyPages = config.plaintextCacheBytes > 0 ? new PageCache(budget.pages) : null
  const searchKeys = new SearchKeys(ring)
  const storage = await openStore(config.database, ring, {
    log: (message) => app.log.warn(message),
    searchIndex: config.searchIndex,
    onUnreadable: (where) => app.log.error(`Stored ${where} cannot be decrypted with any key in ENCRYPTION_KEY (corrupted, or written with a key no longer given): it is served as unreadable. npm run rotate-keys names such rows.`)
  })
  // Revoked token ids are needed only until the token would have expired anyway. A purge that
  // meets a locked database or a full disk is simply left to the next hour.
  const purgeExpired = (): void => {
    whenUnlocked(() => storage.tokens.purgeExpired(), config.lockWaitMs)
      .catch((error: unknown) => app.log.warn({ err: error }, 'could not purge expired revoked tokens; will try again in an hour'))
  }
  purgeExpired()
  const purge = setInterval(purgeExpired, 60 * 60 * 1000).unref()
  const events = new ChatEvents()
  const localLimiter = createRateLimiter({ perSecond: config.messagesPerSecond })
  // Several nodes: one bucket per user in Redis, so a user cannot multiply the rate by the nodes.
  const sendLimiter = app.redis === null ? localLimiter : sharedSendLimiter(app.redis, localLimiter)
  const localChanges = createRateLimiter({ perSecond: config.changesPerSecond })
  const changeLimiter = app.redis === null ? localChanges : sharedSendLimiter(app.redis, localChanges, 'changes')
  const liveIndex = config.searchIndex ? createLiveIndex(storage, { log: app.log }) : null
  const messageWrites = createMessageWrites({ storage, lockWaitMs: config.lockWaitMs })
  const messageService = createMessageService({
    storage, events, limiter: sendLimiter, lockWaitMs: config.lockWaitMs, resolveMentions: createMentionResolver(storage), liveIndex, writes: messageWrites
  })

  app.decorate('storage', storage)
  app.decorate('events', events)
  app.decorate('sendLimiter', sendLimiter)
  app.decorate('changeLimiter', changeLimiter)
  app.decorate('messageService', messageService)
  app.decorate('messageWrites', messageWrites)
  app.decorate('searchKeys', searchKeys)
  app.decorate('liveIndex', liveIndex)
  app.decorate('historyPages', historyPages)
  // A change committed here drops its room's pages at once (their seq is old anyway), and with
  // them any text a delete destroyed. Another node's changes are caught by the seq on the next read.
  const dropPages = (message: Message): void => historyPages?.dropRoom(message.roomId)
  events.on('message', dropPages)
  events.on('message_updated', dropPages)

  app.addHook('onClose', async () => {
    clearInterval(purge)
    await messageWrites.flush()
    await liveIndex?.close()
    await storage.close()
  })
}, { name: 'core', fastify: '5.x' })
