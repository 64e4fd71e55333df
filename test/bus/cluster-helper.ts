// Several real server processes sharing one database and one Redis, each test run under a key
// prefix of its own (so test files running in parallel never hear each other's events). The
// database is one SQLite file, or with TEST_DATABASE=postgres (npm run test:pg) or `store:
// 'postgres'` a PostgreSQL schema of the cluster's own, dropped when it stops.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { Fernet } from '../../src/crypto/fernet.js'
import { onPostgres, tempDir } from '../helper.js'
import { createTestSchema, type TestSchema } from '../pg-helper.js'
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

export type StoreKind = 'sqlite' | 'postgres'

export interface Cluster {
  nodes: ServerProcess[]
  dir: string
  prefix: string
  env: Record<string, string>
  store: StoreKind
  /** The nodes' PostgreSQL schema (null on SQLite): to look at rows, or to slow a commit down. */
  schema: TestSchema | null
  /** Starts one more node on the same database and Redis. */
  add: (extra?: Record<string, string>) => Promise<ServerProcess>
  stop: () => Promise<void>
}

export interface ClusterOptions {
  /** Where the nodes keep their data; by default PostgreSQL under TEST_DATABASE=postgres, else SQLite. */
  store?: StoreKind
}

export async function startCluster (count: number, extra: Record<string, string> = {}, options: ClusterOptions = {}): Promise<Cluster> {
  const store = options.store ?? (onPostgres ? 'postgres' : 'sqlite')
  const dir = tempDir('secure-chat-cluster-')
  const prefix = `test-${randomBytes(6).toString('hex')}:`
  const schema = store === 'postgres' ? await createTestSchema() : null
  const env: Record<string, string> = {
    SECRET_KEY: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: Fernet.generateKey(),
    DATABASE_URL: schema?.url ?? join(dir, 'chat.db'),
    MEDIA_DIR: join(dir, 'media'),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    MESSAGES_PER_SECOND: '0',
    CHANGES_PER_SECOND: '0',
    REGISTRATIONS_PER_HOUR: '0',
    ROOMS_PER_HOUR: '0',
    ...extra
  }
  const nodes: ServerProcess[] = []
  const add = async (more: Record<string, string> = {}): Promise<ServerProcess> => {
    // Generous: under the whole suite a dozen servers start at once on two cores, each through tsx.
    const node = await startServer(dir, { ...env, ...more }, { timeoutMs: 60_000 })
    nodes.push(node)
    return node
  }
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async (node) => node.stop()))
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    // The first one makes the database; the others find it made.
    await add()
    await Promise.all(Array.from({ length: count - 1 }, async () => add()))
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes, dir, prefix, env, store, schema, add, stop }
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
