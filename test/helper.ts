// Test helpers: a Config on a real SQLite file in a fresh temp dir, and an app built on it.
// With TEST_DATABASE=postgres (npm run test:pg), each app gets a fresh PostgreSQL schema instead,
// unless the test names its own DATABASE_URL.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import postgres from 'postgres'
import { buildApp } from '../src/app.js'
import { parseConfig, type Config } from '../src/config.js'
import { Fernet } from '../src/crypto/fernet.js'
import { indexPathOf } from '../src/storage/search-index.js'
import { createTestSchema, type TestSchema } from './pg-helper.js'

/** True when the app suites run against PostgreSQL (npm run test:pg). */
export const onPostgres = process.env.TEST_DATABASE === 'postgres'

export function tempDir (prefix = 'secure-chat-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Settings as the environment would give them, plus test-friendly defaults (fast bcrypt, no limits). */
export function makeTestConfig (env: Record<string, string> = {}, dir = tempDir()): Config {
  return parseConfig({
    SECRET_KEY: 'test-secret-that-is-at-least-32-bytes-long!!',
    ENCRYPTION_KEY: Fernet.generateKey(),
    DATABASE_URL: join(dir, 'chat.db'),
    MEDIA_DIR: join(dir, 'media'),
    BCRYPT_COST: '4',
    MESSAGES_PER_SECOND: '0',
    CHANGES_PER_SECOND: '0',
    REGISTRATIONS_PER_HOUR: '0',
    ROOMS_PER_HOUR: '0',
    LOG_LEVEL: 'silent',
    ...env
  }, { cwd: dir })
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  dir: string
  close: () => Promise<void>
  /** What another app needs as DATABASE_URL to open the same database (a restart). */
  databaseUrl: string
  /** Drops the app's PostgreSQL schema (close() does it too); nothing on SQLite. */
  dropDatabase: () => Promise<void>
}

export async function buildTestApp (env: Record<string, string> = {}, dir = tempDir()): Promise<TestApp> {
  const schema: TestSchema | null = onPostgres && env.DATABASE_URL === undefined ? await createTestSchema() : null
  const config = makeTestConfig(schema === null ? env : { ...env, DATABASE_URL: schema.url }, dir)
  let app: FastifyInstance
  try {
    app = await buildApp(config, { logger: false })
    await app.ready()
  } catch (error) {
    await schema?.drop()
    throw error
  }
  let dropped = false
  const dropDatabase = async (): Promise<void> => {
    if (dropped) return
    dropped = true
    await schema?.drop()
  }
  return {
    app,
    config,
    dir,
    databaseUrl: schema?.url ?? config.databasePath,
    dropDatabase,
    async close () {
      await app.close()
      await dropDatabase()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The first column of every row a query returns, straight from the app's database (SQLite or PostgreSQL). */
export async function selectColumn (config: Config, query: string): Promise<unknown[]> {
  if (config.database.kind === 'postgres') {
    const sql = postgres(config.database.url, { max: 1, onnotice: () => {} })
    try {
      return (await sql.unsafe(query).values()).map((row) => row[0])
    } finally {
      await sql.end({ timeout: 1 })
    }
  }
  const db = new Database(config.databasePath, { readonly: true })
  try {
    // The search index's own file (src/storage/search-index.ts), as the server sees it.
    const index = indexPathOf(config.databasePath)
    if (existsSync(index)) db.prepare('ATTACH DATABASE ? AS search').run(index)
    return db.prepare(query).pluck().all()
  } finally {
    db.close()
  }
}

/** Rows in a table of the app's database. */
export const countRows = async (config: Config, table: string): Promise<number> => Number((await selectColumn(config, `SELECT count(*) FROM ${table}`))[0])

let counter = 0
/** A username no other test uses. */
export function uniqueName (prefix = 'user'): string {
  return `${prefix}${process.pid % 1000}_${++counter}`
}

/** Registers a user through the API and returns their token and id. */
export async function registerUser (app: FastifyInstance, username = uniqueName(), password = 'correct horse battery'):
Promise<{ token: string, id: number, username: string, password: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password } })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  const body = res.json<{ token: string, user: { id: number } }>()
  return { token: body.token, id: body.user.id, username, password }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
