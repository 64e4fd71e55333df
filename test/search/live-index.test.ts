// New messages reach the search index a moment after their ack, not inside their commit
// (src/search/live.ts): the sender still finds them at once, a graceful stop writes what is queued,
// a write that fails costs chat nothing and the next start indexes what it missed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import Database from 'better-sqlite3'
import { createLiveIndex } from '../../src/search/live.js'
import { openStorage } from '../../src/storage/index.js'
import { bearer, buildTestApp, countRows, onPostgres, registerUser, tempDir, type TestApp } from '../helper.js'
import { join } from 'node:path'

const indexTable = onPostgres ? 'message_search' : 'search.message_search_docsize'
const apps: TestApp[] = []
afterEach(async () => { for (const t of apps.splice(0)) await t.close() })

async function send (app: FastifyInstance, token: string, body: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json<{ id: number }>().id
}

describe('indexing new messages after the ack', () => {
  it('a search right after the send finds the message (the queue is written first)', async () => {
    const t = await buildTestApp()
    apps.push(t)
    const user = await registerUser(t.app)
    await t.app.searchIndex.backfilled
    await send(t.app, user.token, 'the heliotrope proposal')
    const res = await t.app.inject({ method: 'GET', url: '/api/search', query: { q: 'heliotrope' }, headers: bearer(user.token) })
    expect(res.json<{ results: Array<{ message: { body: string } }> }>().results.map((r) => r.message.body)).toEqual(['the heliotrope proposal'])
    expect(await countRows(t.config, indexTable)).toBe(1)
  })

  it('a graceful stop writes what is still queued before the database closes', async () => {
    const t = await buildTestApp()
    const user = await registerUser(t.app)
    await t.app.searchIndex.backfilled
    for (let i = 0; i < 5; i++) await send(t.app, user.token, `queued message ${i}`)
    await t.app.close()
    expect(await countRows(t.config, indexTable)).toBe(5)
    await t.dropDatabase()
  })

  it('a write that fails is logged, costs chat nothing, and what it missed is indexed at the next start', async () => {
    const key = Fernet.generateKey()
    const ring = new FernetRing([key])
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, ring)
    const warnings: string[] = []
    const live = createLiveIndex(store, { delayMs: 60_000, tries: 2, retryMs: 10, log: { warn: (_object, message) => warnings.push(message) } })
    const alice = (await store.users.create('alice', 'x'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'lost words' })
    live.add(message)
    // The database goes away under the queue (a closed handle stands for a failed write).
    await store.close()
    await expect(live.settled()).resolves.toBeUndefined()
    // Tried again a moment later, then left to the next start.
    await vi.waitFor(() => expect(warnings).toEqual([
      'search index: 1 new messages could not be indexed now; trying again in 0.01 s',
      'search index: 1 new messages could not be indexed now; the next start indexes them'
    ]))

    // SQLite in both test passes: the closed handle above is SQLite's.
    const t = await buildTestApp({ DATABASE_URL: path, ENCRYPTION_KEY: key })
    apps.push(t)
    await t.app.searchIndex.backfilled
    expect(await t.app.searchIndex.progress()).toEqual({ indexed: 1, total: 1 })
  })

  it('a write that fails is tried again, and lands once the failure is gone', async () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, ring)
    const warnings: string[] = []
    const live = createLiveIndex(store, { delayMs: 60_000, retryMs: 50, log: { warn: (_object, message) => warnings.push(message) } })
    const alice = (await store.users.create('alice', 'x'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'patient words' })
    // A broken index file: its write fails until the table is back (as a full disk would, and then not).
    const other = new Database(`${path}-search`)
    await store.search.progress() // the index thread's start-up check is done
    other.exec('ALTER TABLE meta RENAME TO meta_away')
    live.add(message)
    await live.settled()
    expect(warnings).toEqual(['search index: 1 new messages could not be indexed now; trying again in 0.05 s'])
    expect(await store.search.progress()).toEqual({ indexed: 0, total: 1 })
    other.exec('ALTER TABLE meta_away RENAME TO meta')
    other.close()
    await vi.waitFor(async () => expect(await store.search.progress()).toEqual({ indexed: 1, total: 1 }))
    expect(warnings).toHaveLength(1)
    await live.close()
    await store.close()
  })

  it('a lock another program holds on the database does not stop indexing (the index is a file of its own)', async () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, ring)
    const warnings: string[] = []
    const live = createLiveIndex(store, { delayMs: 60_000, log: { warn: (_object, message) => warnings.push(message) } })
    const alice = (await store.users.create('alice', 'x'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'patient words' })
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE') // a shell or a backup holding the database's write lock
    try {
      live.add(message)
      await live.settled()
      expect(await store.search.progress()).toEqual({ indexed: 1, total: 1 })
      expect(warnings).toEqual([])
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    await live.close()
    await store.close()
  })
})
