// Test helpers: a Config on a real SQLite file in a fresh temp dir, and an app built on it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { parseConfig, type Config } from '../src/config.js'
import { Fernet } from '../src/crypto/fernet.js'

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
}

export async function buildTestApp (env: Record<string, string> = {}, dir = tempDir()): Promise<TestApp> {
  const config = makeTestConfig(env, dir)
  const app = await buildApp(config, { logger: false })
  await app.ready()
  return {
    app,
    config,
    dir,
    async close () {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

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
