// The search index store (store.search), on both stores: tokens written after a send, found by
// term (words, phrases by position, prefixes), only in the rooms asked, by author, paged; edits
// replace tokens, deletes remove them; the backfill's scan and stamped write; reset and progress.
import Database from 'better-sqlite3'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { SearchKeys } from '../../src/search/tokens.js'
import { openStorage, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import type { IndexQuery, IndexTerm, NewIndexEntry } from '../../src/storage/types.js'
import { tempDir } from '../helper.js'
import { createTestSchema } from '../pg-helper.js'

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

async function open (dialect: 'sqlite' | 'postgres', ring: FernetRing): Promise<Store> {
  if (dialect === 'sqlite') {
    const store = openStorage(join(tempDir(), 'chat.db'), ring)
    cleanups.push(async () => store.close())
    return store
  }
  const schema = await createTestSchema()
  cleanups.push(schema.drop)
  const store = await openPgStore(schema.url, ring, { max: 2 })
  cleanups.push(async () => store.close())
  return store
}

describe.each(['sqlite', 'postgres'] as const)('search store: %s', (dialect) => {
  const ring = new FernetRing([Fernet.generateKey()])
  const keys = new SearchKeys(ring)
  const word = (rooms: number[], w: string): IndexTerm => ({ kind: 'words', alternatives: rooms.map((r) => [keys.word(r, w)]) })
  const phrase = (rooms: number[], ws: string[]): IndexTerm => ({ kind: 'words', alternatives: rooms.map((r) => ws.map((w) => keys.word(r, w))) })
  const prefix = (rooms: number[], p: string): IndexTerm => ({ kind: 'prefix', alternatives: rooms.map((r) => [keys.prefix(r, p)]) })
  const query = (terms: IndexTerm[], rest: Partial<IndexQuery> = {}): IndexQuery =>
    ({ terms, roomIds: [1, 2], authorName: null, before: null, order: 'newest', limit: 50, offset: 0, ...rest })

  it('finds what sends indexed: words, phrases (adjacent, in order), prefixes, by room and author, newest first, paged', async () => {
    const store = await open(dialect, ring)
    const alice = (await store.users.create('alice', 'x'))!
    const bob = (await store.users.create('bob', 'x'))!
    const send = async (roomId: number, author: typeof alice, body: string): Promise<number> => {
      const { id } = (await store.messages.insert({ roomId, author, body })).message
      expect(await store.search.writeNew([{ messageId: id, roomId, body }])).toBe(1)
      return id
    }
    const a = await send(1, alice, 'the new release is out')
    const b = await send(1, bob, 'release the new build')
    const c = await send(2, alice, 'deployment of the release')
    const dId = await send(1, bob, 'Another release')
    const ids = async (q: IndexQuery): Promise<number[]> => (await store.search.find(q)).map((m) => m.id)

    expect(await ids(query([word([1, 2], 'release')]))).toEqual([dId, c, b, a])
    expect(await ids(query([word([1, 2], 'release')], { roomIds: [1] }))).toEqual([dId, b, a])
    // The room-2 token of a word does not find it in room 1.
    expect(await ids(query([word([2], 'new')]))).toEqual([])
    expect(await ids(query([phrase([1, 2], ['new', 'release'])]))).toEqual([a])
    expect(await ids(query([word([1, 2], 'new'), word([1, 2], 'release')]))).toEqual([b, a])
    expect(await ids(query([prefix([1, 2], 'deplo')]))).toEqual([c])
    expect(await ids(query([word([1, 2], 'release')], { authorName: 'ALICE' }))).toEqual([c, a])
    expect(await ids(query([word([1, 2], 'release')], { authorName: 'nobody' }))).toEqual([])
    expect(await ids(query([], { authorName: 'bob' }))).toEqual([dId, b])
    expect(await ids(query([word([1, 2], 'release')], { before: c, limit: 1 }))).toEqual([b])
    expect(await ids(query([word([1, 2], 'release')], { order: 'relevance', limit: 2, offset: 3 }))).toHaveLength(1)
    expect((await store.search.find(query([word([1, 2], 'release')], { limit: 1 })))[0]!.body).toBe('Another release')
    expect(await ids(query([word([1, 2], 'release')], { roomIds: [] }))).toEqual([])
  })

  it('replace (an edit) and remove (a delete); tokens of a missing message are not written', async () => {
    const store = await open(dialect, ring)
    const alice = (await store.users.create('alice', 'x'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'first words' })
    await store.search.writeNew([{ messageId: message.id, roomId: 1, body: 'first words' }])
    await store.search.replace(message.id, keys.forText(1, 'second text'))
    expect(await store.search.find(query([word([1], 'first')]))).toEqual([])
    expect((await store.search.find(query([word([1], 'second')]))).map((m) => m.id)).toEqual([message.id])
    await store.search.remove([message.id])
    expect(await store.search.find(query([word([1], 'second')]))).toEqual([])
    await store.search.replace(999_999, keys.forText(1, 'ghost'))
    expect(await store.search.find(query([word([1], 'ghost')]))).toEqual([])
    expect(await store.search.progress()).toEqual({ indexed: 0, total: 1 })
  })

  it('backfill: scan the unindexed, write unless the body changed since; reset empties and names the key', async () => {
    const store = await open(dialect, ring)
    const alice = (await store.users.create('alice', 'x'))!
    await store.messages.insertBatch(['one', 'two', 'three'].map((body) => ({ roomId: 1, author: alice, body })))
    const four = (await store.messages.insert({ roomId: 1, author: alice, body: 'four' })).message.id
    await store.search.writeNew([{ messageId: four, roomId: 1, body: 'four' }])
    expect(await store.search.progress()).toEqual({ indexed: 1, total: 4 })
    const pending = await store.search.scan(0, 10, 'unindexed')
    expect(pending.map((p) => p.message.body)).toEqual(['one', 'two', 'three'])
    expect((await store.search.scan(pending[0]!.message.id, 2, 'all')).map((p) => p.message.body)).toEqual(['two', 'three'])
    const entries = pending.map((p) => ({ messageId: p.message.id, stamp: p.stamp, tokens: keys.forText(1, p.message.body) }))
    entries[1] = { ...entries[1]!, stamp: 'changed since' }
    expect(await store.search.write(entries)).toBe(2)
    expect((await store.search.scan(0, 10, 'unindexed')).map((p) => p.message.body)).toEqual(['two'])
    expect((await store.search.find(query([word([1], 'three')]))).map((m) => m.body)).toEqual(['three'])

    expect(await store.search.keyFingerprint()).toBeNull()
    await store.search.reset(keys.fingerprint())
    expect(await store.search.keyFingerprint()).toBe(keys.fingerprint())
    expect(await store.search.progress()).toEqual({ indexed: 0, total: 4 })
    expect(await store.search.find(query([word([1], 'four')]))).toEqual([])
  })

  it('writeNew indexes a message only as sent: not once edited or deleted (they wrote their own), not twice, not a missing one', async () => {
    const store = await open(dialect, ring)
    const alice = (await store.users.create('alice', 'x'))!
    const [plain, edited, deleted] = await Promise.all(['plain words', 'old words', 'gone words'].map(async (body) =>
      (await store.messages.insert({ roomId: 1, author: alice, body })).message.id))
    await store.lifecycle.edit(1, edited!, 'new words', [], keys.forText(1, 'new words'))
    await store.lifecycle.remove(1, deleted!)
    const entry = (id: number, body: string): NewIndexEntry => ({ messageId: id, roomId: 1, body })
    // Queued at send time, written after the edit and the delete: only the untouched one is written.
    expect(await store.search.writeNew([entry(plain!, 'plain words'), entry(edited!, 'old words'), entry(deleted!, 'gone words'), entry(999_999, 'ghost')])).toBe(1)
    const found = async (w: string): Promise<string[]> => (await store.search.find(query([word([1], w)]))).map((m) => m.body)
    expect(await found('plain')).toEqual(['plain words'])
    expect(await found('old')).toEqual([])
    expect(await found('new')).toEqual(['new words'])
    expect(await found('gone')).toEqual([])
    // Already in the index (the backfill got there first): left as it is, not an error.
    expect(await store.search.writeNew([entry(plain!, 'plain words')])).toBe(0)
    expect(await store.search.progress()).toEqual({ indexed: 2, total: 2 })
  })
})

describe('search store: sqlite index file', () => {
  it('lives beside the database, not in it, written by its own thread: a lock on it never holds up a send, and its writes wait for the lock', async () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, ring)
    cleanups.push(async () => store.close())
    const alice = (await store.users.create('alice', 'x'))!
    const tables = new Database(path, { readonly: true })
    try {
      expect(tables.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'message_search%'").all()).toEqual([])
    } finally {
      tables.close()
    }
    expect(existsSync(`${path}-search`)).toBe(true)

    const other = new Database(`${path}-search`)
    other.exec('BEGIN IMMEDIATE')
    const first = (await store.messages.insert({ roomId: 1, author: alice, body: 'hello there' })).message.id
    let written: number | undefined
    const writing = store.search.writeNew([{ messageId: first, roomId: 1, body: 'hello there' }]).then((n) => { written = n })
    await sleep(300)
    expect(written).toBeUndefined() // the thread waits for the lock...
    await store.messages.insert({ roomId: 1, author: alice, body: 'sent meanwhile' }) // ...and sends do not
    other.exec('COMMIT')
    other.close()
    await writing
    expect(written).toBe(1)
    expect((await store.search.find({ terms: [{ kind: 'words', alternatives: [[new SearchKeys(ring).word(1, 'hello')]] }], roomIds: [1], authorName: null, before: null, order: 'newest', limit: 10, offset: 0 })).map((m) => m.id)).toEqual([first])
    // Tokens are checked in the thread too; its errors come back to the caller.
    await expect(store.search.write([{ messageId: first, stamp: 'x', tokens: { words: ['not hex'], prefixes: [] } }])).resolves.toBe(0)
    const stamp = (await store.search.scan(0, 1, 'all'))[0]!.stamp
    await expect(store.search.write([{ messageId: first, stamp, tokens: { words: ['not hex'], prefixes: [] } }])).rejects.toThrow('search tokens are hex')
  })

  it('an edit or delete in a group-commit batch reaches the index after the batch commits; tokens a crash left behind go at the next start', async () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const keys = new SearchKeys(ring)
    const path = join(tempDir(), 'chat.db')
    const find = async (store: Store, w: string): Promise<number[]> =>
      (await store.search.find({ terms: [{ kind: 'words', alternatives: [[keys.word(1, w)]] }], roomIds: [1], authorName: null, before: null, order: 'newest', limit: 10, offset: 0 })).map((m) => m.id)
    let store = openStorage(path, ring)
    const alice = (await store.users.create('alice', 'x'))!
    const results = await store.writes.batch([
      { send: { roomId: 1, author: alice, body: 'kept words' } },
      { send: { roomId: 1, author: alice, body: 'draft words' } },
      { send: { roomId: 1, author: alice, body: 'doomed words' } }
    ])
    const [kept, draft, doomed] = results.map((r) => (r.ok && 'sent' in r.value ? r.value.sent.message.id : 0))
    await store.search.writeNew([kept!, draft!, doomed!].map((id, i) => ({ messageId: id, roomId: 1, body: ['kept words', 'draft words', 'doomed words'][i]! })))
    expect(await find(store, 'words')).toEqual([doomed, draft, kept])
    const changed = await store.writes.batch([
      { change: { kind: 'edit', roomId: 1, messageId: draft!, body: 'final text', mentions: [], tokens: keys.forText(1, 'final text') } },
      { change: { kind: 'remove', roomId: 1, messageId: doomed! } }
    ])
    expect(changed.every((r) => r.ok)).toBe(true)
    expect(await find(store, 'final')).toEqual([draft])
    expect(await find(store, 'words')).toEqual([kept])
    expect(await store.search.progress()).toEqual({ indexed: 2, total: 2 })
    await store.close()

    // A crash between a delete's commit and its index write: the tokens stayed. And a database put
    // back from an older copy while the index file stayed: tokens for ids it does not have.
    const db = new Database(path)
    db.prepare("UPDATE messages SET body = '', deleted_at = ? WHERE id = ?").run(new Date().toISOString(), kept)
    db.close()
    const index = new Database(`${path}-search`)
    index.prepare('INSERT INTO message_search (rowid, words, prefixes) VALUES (?, ?, ?)').run(doomed! + 100, keys.forText(1, 'ghost').words.join(' '), '')
    index.close()
    store = openStorage(path, ring)
    try {
      await vi.waitFor(async () => expect(await selectIds(`${path}-search`)).toEqual([draft]))
      expect(await store.search.progress()).toEqual({ indexed: 1, total: 1 })
    } finally {
      await store.close()
    }
  })
})

describe('search store: a damaged index file', () => {
  it('is replaced at start (it holds nothing the messages cannot give again), and said so', async () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const path = join(tempDir(), 'chat.db')
    let store = openStorage(path, ring)
    const alice = (await store.users.create('alice', 'x'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'still here' })
    await store.close()
    writeFileSync(`${path}-search`, Buffer.alloc(8192, 7))
    const said: string[] = []
    store = openStorage(path, ring, { log: (message) => said.push(message) })
    try {
      expect(said).toEqual([expect.stringMatching(/^search index: .*chat\.db-search could not be opened \(.*\); starting a new one$/)])
      expect(await store.search.keyFingerprint()).toBeNull() // so the server rebuilds it
      expect(await store.search.writeNew([{ messageId: message.id, roomId: 1, body: 'still here' }])).toBe(1)
      expect(await store.search.progress()).toEqual({ indexed: 1, total: 1 })
    } finally {
      await store.close()
    }
  })
})

async function selectIds (indexPath: string): Promise<number[]> {
  const db = new Database(indexPath, { readonly: true })
  try {
    return db.prepare('SELECT id FROM message_search_docsize ORDER BY id').pluck().all() as number[]
  } finally {
    db.close()
  }
}
