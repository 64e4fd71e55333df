// Several real server processes sharing one database file and one Redis, each test run under a
// key prefix of its own (so test files running in parallel never hear each other's events).
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { Fernet } from '../../src/crypto/fernet.js'
import { tempDir } from '../helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A connection for the test itself; throws (the test fails, never skips) when Redis is not there. */
export async function testRedis (url = REDIS_URL): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  redis.on('error', () => {}) // connect() rejects with it
  try {
    await redis.connect()
  } catch (error) {
    throw new Error(`These tests need Redis at ${url} (.ci/run starts it): ${(error as Error).message}`)
  }
  return redis
}

export interface Cluster {
  nodes: ServerProcess[]
  dir: string
  prefix: string
  env: Record<string, string>
  /** Starts one more node on the same database and Redis. */
  add: (extra?: Record<string, string>) => Promise<ServerProcess>
  stop: () => Promise<void>
}

export async function startCluster (count: number, extra: Record<string, string> = {}): Promise<Cluster> {
  const dir = tempDir('secure-chat-cluster-')
  const prefix = `test-${randomBytes(6).toString('hex')}:`
  const env: Record<string, string> = {
    SECRET_KEY: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: Fernet.generateKey(),
    DATABASE_URL: join(dir, 'chat.db'),
    MEDIA_DIR: join(dir, 'media'),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    MESSAGES_PER_SECOND: '0',
    REGISTRATIONS_PER_HOUR: '0',
    ROOMS_PER_HOUR: '0',
    ...extra
  }
  const nodes: ServerProcess[] = []
  const add = async (more: Record<string, string> = {}): Promise<ServerProcess> => {
    const node = await startServer(dir, { ...env, ...more })
    nodes.push(node)
    return node
  }
  // The first one makes the database; the others find it made.
  await add()
  await Promise.all(Array.from({ length: count - 1 }, async () => add()))
  return {
    nodes,
    dir,
    prefix,
    env,
    add,
    async stop () {
      await Promise.all(nodes.map(async (node) => node.stop()))
    }
  }
}

export async function register (base: string, username: string, password = 'correct horse battery'): Promise<{ token: string, id: number, username: string, password: string }> {
  const res = await fetch(`${base}/api/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password })
  })
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`)
  const body = await res.json() as { token: string, user: { id: number } }
  return { token: body.token, id: body.user.id, username, password }
}

export async function post (base: string, path: string, token: string | null, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body)
  })
}

let names = 0
export const name = (prefix = 'u'): string => `${prefix}${process.pid % 1000}x${++names}`
