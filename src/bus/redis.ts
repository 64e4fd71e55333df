// The connection to Redis when REDIS_URL is set (app.redis; null for one node): one client for
// commands (shared limits, presence, publishing), made to fail fast while Redis is away so that a
// request never hangs on it, and this process's node id. The subscriber is the bus's own (bus.ts).
// @see https://github.com/redis/ioredis
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { Redis, type RedisOptions } from 'ioredis'
import { StorageProblem } from '../storage/problems.js'

export interface RedisLink {
  readonly client: Redis
  /** Starts every key and channel name (REDIS_PREFIX). */
  readonly prefix: string
  /** This process, among the nodes. */
  readonly node: string
  /** Options for another connection to the same Redis (the bus's subscriber). */
  readonly options: RedisOptions
  readonly url: string
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisLink | null
  }
}

/** A command that meets no answer within this fails (the limits then do what README says). */
const COMMAND_TIMEOUT_MS = 2000
const CONNECT_TIMEOUT_MS = 5000

/** The URL without its password, for messages. */
export function redactedUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'REDIS_URL'
  }
}

export default fp(async (app) => {
  const url = app.config.redisUrl
  if (url === null) {
    app.decorate('redis', null)
    return
  }
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Back within 2 s of Redis coming back, for ever: a node outlives a Redis restart.
    retryStrategy: (times) => Math.min(times * 100, 2000)
  }
  const client = new Redis(url, {
    ...options,
    // While Redis is away commands fail at once instead of queueing: limits fall back (README).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS
  })
  let down = false
  client.on('error', (error: Error) => {
    if (down) return // one line per outage, not one per retry
    down = true
    app.log.error({ err: { message: error.message } }, 'Redis connection lost; retrying')
  })
  client.on('ready', () => {
    if (down) app.log.warn('Redis connection back')
    down = false
  })
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    throw new StorageProblem(`Cannot reach Redis at ${redactedUrl(url)} (REDIS_URL): ${(error as Error).message}. Start Redis, or unset REDIS_URL to run a single node.`)
  }
  app.decorate('redis', { client, prefix: app.config.redisPrefix, node: randomUUID(), options, url })
  app.addHook('onClose', async () => {
    await client.quit().catch(() => client.disconnect())
  })
}, { name: 'redis', fastify: '5.x' })
