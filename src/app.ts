// buildApp(config): the whole application as a Fastify instance, without listening. The entry
// point (server.ts) and the tests both start here. Plugins are registered in dependency order.
import fastifyRateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import authPlugin from './auth/plugin.js'
import authRoutes from './auth/routes.js'
import redis from './bus/redis.js'
import type { Config } from './config.js'
import conversationRoutes from './conversations/routes.js'
import core from './core.js'
import docs from './docs.js'
import { clientErrorHandler, frameworkErrors, setErrorHandlers } from './error-handler.js'
import { errors } from './errors.js'
import healthRoutes from './health.js'
import lifecycle from './lifecycle/plugin.js'
import { loggerOptions, RequestLog } from './logger.js'
import realtime from './realtime/plugin.js'
import messageRoutes from './messages/routes.js'
import roomRoutes from './rooms/routes.js'
import search from './search/plugin.js'
import security from './security/plugin.js'
import staticFiles from './static.js'
import uploads from './uploads/plugin.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface BuildOptions {
  /** Overrides the logger built from config.logLevel (tests pass false). */
  logger?: boolean
  /** Where log lines go instead of stdout (tests capture them to check for secrets). */
  logStream?: { write: (line: string) => void }
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false
      ? false
      : Object.assign({}, loggerOptions(config.logLevel), options.logStream === undefined ? {} : { stream: options.logStream }),
    logController: new RequestLog(),
    // JSON bodies are small here; uploads have their own limit.
    bodyLimit: 64 * 1024,
    // No reverse proxy in front by default: these stop slow-loris clients.
    requestTimeout: 120_000,
    connectionTimeout: 120_000,
    keepAliveTimeout: 10_000,
    return503OnClosing: true,
    // Errors raised outside the error handler's reach answer in the contract's shape too.
    frameworkErrors,
    clientErrorHandler
  })
  // Node's own limit for the request head (default 60 s): a header drip gets 408 sooner.
  app.server.headersTimeout = 30_000
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  // JSON in (plus the login form and multipart where routes add them): anything else is a 415.
  app.removeContentTypeParser('text/plain')
  setErrorHandlers(app)

  await app.register(redis) // null without REDIS_URL; the limits and the hub use it when set
  await app.register(core)
  await app.register(authPlugin)
  await app.register(security)
  await app.register(fastifyRateLimit, {
    global: false,
    // Several nodes: the per-hour counts live in Redis; while it does not answer they are skipped.
    ...(app.redis === null ? {} : { redis: app.redis.client, nameSpace: `${app.redis.prefix}rate-limit:`, skipOnError: true }),
    errorResponseBuilder: (_request, context) => errors.rateLimited(context.ttl / 1000)
  })
  await app.register(docs)
  await app.register(lifecycle) // before realtime: its frames use the lifecycle service
  await app.register(realtime)

  await app.register(healthRoutes)
  await app.register(authRoutes)
  await app.register(roomRoutes)
  await app.register(conversationRoutes)
  await app.register(messageRoutes)
  await app.register(search)
  await app.register(uploads)
  await app.register(staticFiles)

  return app
}
