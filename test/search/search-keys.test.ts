// What the index keeps at rest, and what a key change does to it: no word of a message, and no
// unkeyed hash of one, is in the database (file, WAL; or PostgreSQL's rows); a new first key
// empties the index and the server rebuilds it; `npm run rotate-keys` and `npm run reindex`
// rebuild it too (SQLite: those tools work on files); searching never puts `q` in the log.
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { SearchKeys } from '../../src/search/tokens.js'
import { bearer, buildTestApp, makeTestConfig, onPostgres, registerUser, selectColumn, tempDir } from '../helper.js'
import { logSink, runTool } from '../hardening/support.js'

async function search (app: FastifyInstance, token: string, q: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/search', query: { q }, headers: bearer(token) })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ results: Array<{ message: { body: string } }> }>().results.map((r) => r.message.body)
}

async function send (app: FastifyInstance, token: string, roomId: number, body: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: bearer(token), payload: { body } })
  expect(res.statusCode).toBe(201)
}

const WORDS = ['zanzibarquokka', 'meeting', 'tomorrow', 'budget', 'quarterly', 'Zürich', 'zurich', 'Überweisung', 'ueberweisung', '北京']

/** Every form of each word someone without the keys could look for: itself, and unkeyed hashes of it. */
function needles (): Array<{ what: string, bytes: Buffer }> {
  const out: Array<{ what: string, bytes: Buffer }> = []
  for (const word of WORDS) {
    for (const form of new Set([word, word.toLowerCase(), word.normalize('NFD'), word.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()])) {
      out.push({ what: form, bytes: Buffer.from(form) })
      for (const input of [form, `w|${form}`]) {
        for (const algorithm of ['md5', 'sha1', 'sha256']) {
          const digest = createHash(algorithm).update(input).digest()
          out.push({ what: `${algorithm}(${input})`, bytes: digest })
          out.push({ what: `${algorithm}(${input}) hex`, bytes: Buffer.from(digest.toString('hex')) })
          out.push({ what: `${algorithm}(${input}) base64`, bytes: Buffer.from(digest.toString('base64')) })
        }
      }
    }
  }
  return out
}

describe('the index at rest', () => {
  it('holds no word of a message and no unkeyed hash of one, in the database, its WAL or the index', async () => {
    const t = await buildTestApp()
    try {
      const user = await registerUser(t.app)
      await send(t.app, user.token, 1, 'zanzibarquokka meeting tomorrow about the quarterly budget')
      await send(t.app, user.token, 2, 'Meeting in Zürich: Überweisung tomorrow, 北京 too')
      for (let i = 0; i < 20; i++) await send(t.app, user.token, 1 + (i % 3), `meeting ${i} tomorrow budget`)
      expect(await search(t.app, user.token, 'zurich ueberweisung')).toHaveLength(0) // Ü is not ue: no match, and none expected
      expect(await search(t.app, user.token, 'zurich uberweisung')).toHaveLength(1)

      let haystacks: Array<{ name: string, bytes: Buffer }>
      if (onPostgres) {
        const rows = await selectColumn(t.config, 'SELECT tokens::text FROM message_search')
        expect(rows.length).toBe(22)
        const meta = await selectColumn(t.config, 'SELECT value FROM meta')
        haystacks = [{ name: 'message_search', bytes: Buffer.from(rows.join('\n')) }, { name: 'meta', bytes: Buffer.from(meta.join('\n')) }]
      } else {
        const path = t.config.databasePath
        const index = `${path}-search`
        haystacks = [path, `${path}-wal`, `${path}-shm`, index, `${index}-wal`, `${index}-shm`].filter((f) => existsSync(f)).map((f) => ({ name: f, bytes: readFileSync(f) }))
        expect(haystacks.some((h) => h.name === `${path}-wal` && h.bytes.length > 0)).toBe(true)
        expect(haystacks.some((h) => h.name.startsWith(index) && h.bytes.length > 0)).toBe(true)
        expect(Number((await selectColumn(t.config, 'SELECT count(*) FROM search.message_search_docsize'))[0])).toBe(22)
        // The scan does find what is stored in clear: usernames are.
        expect(haystacks.some((h) => h.bytes.includes(Buffer.from(user.username)))).toBe(true)
      }
      for (const { name, bytes } of haystacks) {
        for (const needle of needles()) expect(bytes.includes(needle.bytes), `${needle.what} in ${name}`).toBe(false)
      }
    } finally {
      await t.close()
    }
  })
})

describe('search keys follow the encryption key', () => {
  it('a new first key ("new,old") empties the index and the server rebuilds it in the background', async () => {
    const dir = tempDir()
    const oldKey = Fernet.generateKey()
    const newKey = Fernet.generateKey()
    const first = await buildTestApp({ ENCRYPTION_KEY: oldKey }, dir)
    const user = await registerUser(first.app)
    await send(first.app, user.token, 1, 'rotation survives search')
    await first.app.close()
    const second = await buildTestApp({ ENCRYPTION_KEY: `${newKey},${oldKey}`, DATABASE_URL: first.databaseUrl }, dir)
    try {
      await second.app.searchIndex.backfilled
      const [fingerprint] = await selectColumn(second.config, `SELECT value FROM ${onPostgres ? 'meta' : 'search.meta'} WHERE key = 'search_key'`)
      expect(fingerprint).toBe(new SearchKeys(new FernetRing([newKey])).fingerprint())
      expect(await search(second.app, user.token, 'survives')).toEqual(['rotation survives search'])
    } finally {
      await second.close()
      await first.dropDatabase()
    }
  })

  // On a SQLite file of its own in every pass (its PostgreSQL counterpart is test/hardening/rotation-pg.test.ts).
  it('npm run rotate-keys rebuilds it under the new key; npm run reindex rebuilds it whole', async () => {
    const dir = tempDir()
    const oldKey = Fernet.generateKey()
    const newKey = Fernet.generateKey()
    const config = makeTestConfig({ ENCRYPTION_KEY: oldKey }, dir)
    let app = await buildApp(config, { logger: false })
    await app.ready()
    const user = await registerUser(app)
    await send(app, user.token, 1, 'keys change, words stay findable')
    await app.close()

    const env = { DATABASE_URL: config.databasePath, ENCRYPTION_KEY: `${newKey},${oldKey}` }
    const rotate = runTool('rotate-keys', dir, env)
    expect(await rotate.exited, rotate.stderr()).toBe(0)
    expect(rotate.stdout()).toMatch(/search index: rebuilt under the first key, 1 messages indexed/)
    const fingerprint = (): unknown => {
      const db = new Database(`${config.databasePath}-search`, { readonly: true })
      try { return db.prepare("SELECT value FROM meta WHERE key = 'search_key'").pluck().get() } finally { db.close() }
    }
    expect(fingerprint()).toBe(new SearchKeys(new FernetRing([newKey])).fingerprint())

    const reindex = runTool('reindex', dir, { ...env, ENCRYPTION_KEY: newKey })
    expect(await reindex.exited, reindex.stderr()).toBe(0)
    expect(reindex.stdout()).toMatch(/Done: 1 messages indexed/)

    app = await buildApp(makeTestConfig({ ENCRYPTION_KEY: newKey, DATABASE_URL: config.databasePath }, dir), { logger: false })
    try {
      await app.ready()
      // Found before any background indexing could have run: the tools left the index complete.
      expect(await search(app, user.token, 'findable')).toEqual(['keys change, words stay findable'])
      await app.searchIndex.backfilled
      expect((await app.inject({ method: 'GET', url: '/api/health' })).json().searchIndex).toEqual({ indexed: 1, total: 1 })
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('npm run reindex', () => {
  it('rebuilds the index from the messages, on the store DATABASE_URL names', async () => {
    const ENCRYPTION_KEY = Fernet.generateKey()
    const t = await buildTestApp({ ENCRYPTION_KEY })
    try {
      const user = await registerUser(t.app)
      await send(t.app, user.token, 1, 'one')
      await t.app.storage.messages.insert({ roomId: 2, author: { id: user.id, username: user.username }, body: 'two, from before search' })
      await t.app.close()
      const run = runTool('reindex', t.dir, { DATABASE_URL: t.databaseUrl, ENCRYPTION_KEY }, ['--batch-size', '1'])
      expect(await run.exited, run.stderr()).toBe(0)
      expect(run.stdout()).toMatch(/Rebuilding the search index: 2 messages[\s\S]*Done: 2 messages indexed/)
      expect(Number((await selectColumn(t.config, `SELECT count(*) FROM ${onPostgres ? 'message_search' : 'search.message_search_docsize'}`))[0])).toBe(2)
    } finally {
      await t.dropDatabase()
      rmSync(t.dir, { recursive: true, force: true })
    }
  })
})

describe('logs', () => {
  it('never hold the words searched for', async () => {
    const dir = tempDir()
    const sink = logSink()
    const app = await buildApp(makeTestConfig({ LOG_LEVEL: 'debug' }, dir), { logStream: sink })
    try {
      await app.ready()
      const user = await registerUser(app)
      await send(app, user.token, 1, 'a perfectly secretive plan')
      expect(await search(app, user.token, 'secretive')).toHaveLength(1)
      await app.inject({ method: 'GET', url: '/api/search?q=secretive%20pl*&limit=nonsense', headers: bearer(user.token) })
      await app.inject({ method: 'GET', url: '/api/search?Q=secretive&q=x*', headers: bearer(user.token) })
      expect(sink.text()).toContain('/api/search')
      expect(sink.text()).not.toMatch(/secretive/i)
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
