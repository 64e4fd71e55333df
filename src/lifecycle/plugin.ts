// The message lifecycle: decorates `lifecycle` (the one change path) and `receipts`, and
// registers its routes. Before the realtime plugin, whose frames use both.
import fp from 'fastify-plugin'
import { createMentionResolver } from './mentions.js'
import { createReceipts, type Receipts } from './receipts.js'
import routes from './routes.js'
import { createLifecycleService, type LifecycleService } from './service.js'

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: LifecycleService
    receipts: Receipts
  }
}

export default fp(async (app) => {
  const { storage, events, config, messageWrites } = app
  app.decorate('lifecycle', createLifecycleService({
    storage,
    writes: messageWrites,
    limiter: app.changeLimiter,
    events,
    resolveMentions: createMentionResolver(storage),
    mediaDir: config.mediaDir,
    lockWaitMs: config.lockWaitMs,
    editWindowMinutes: config.editWindowMinutes,
    searchKeys: config.searchIndex ? app.searchKeys : null,
    log: app.log
  }))
  const receipts = createReceipts(storage, events)
  app.decorate('receipts', receipts)
  app.addHook('onClose', async () => receipts.close())
  await app.register(routes)
}, { name: 'lifecycle', fastify: '5.x', dependencies: ['core', 'auth'] })
