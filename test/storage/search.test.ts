// The search index store (store.search), on both stores: tokens written after a send, found by
// term (words, phrases by position, prefixes), only in the rooms asked, by author, paged; edits
// replace tokens, deletes remove them; the backfill's scan and stamped write; reset and progress.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { SearchKeys } from '../../src/search/tokens.js'
import { openDatabase } from '../../src/storage/database.js'
import { openStorage, type Store } from '../../src/storage/index.js'
import { createMessagesRepo } from '../../src/storage/messages.js'
import { createSearchRepo } from '../../src/storage/search.js'
import { createUnreadableRows } from '../../src/storage/unreadable.js'
import { createUsersRepo } from '../../src/storage/users.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import type { IndexQuery, IndexTerm } from '../../src/storage/types.js'
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
      expect(await store.search.writeNew([{ messageId: id, tokens: keys.forText(roomId, body) }])).toBe(1)
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
    await store.search.writeNew([{ messageId: message.id, tokens: keys.forText(1, 'first words') }])
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
    await store.search.writeNew([{ messageId: four, tokens: keys.forText(1, 'four') }])
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
    const entry = (id: number, body: string): { messageId: number, tokens: ReturnType<SearchKeys['forText']> } => ({ messageId: id, tokens: keys.forText(1, body) })
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

describe('search store: sqlite durability', () => {
  it('writeNew commits without its own fsync, and every other commit is FULL again after it (even when it fails)', () => {
    const ring = new FernetRing([Fernet.generateKey()])
    const keys = new SearchKeys(ring)
    const db = openDatabase(join(tempDir(), 'chat.db'), ring)
    try {
      const search = createSearchRepo(db, ring, createUnreadableRows())
      const user = createUsersRepo(db).create('alice', 'x')!
      const { message } = createMessagesRepo(db, ring, createUnreadableRows()).insert({ roomId: 1, author: user, body: 'hello there' })
      const FULL = 2
      expect(db.pragma('synchronous', { simple: true })).toBe(FULL)
      expect(search.writeNew([{ messageId: message.id, tokens: keys.forText(1, 'hello there') }])).toBe(1)
      expect(db.pragma('synchronous', { simple: true })).toBe(FULL)
      expect(() => search.writeNew([{ messageId: message.id + 1, tokens: { words: ['not hex'], prefixes: [] } }])).not.toThrow()
      db.prepare('INSERT INTO messages (room_id, user_id, body, created_at, seq) VALUES (1, ?, ?, ?, 99)').run(user.id, ring.encrypt('x'), new Date().toISOString())
      expect(() => search.writeNew([{ messageId: message.id + 1, tokens: { words: ['not hex'], prefixes: [] } }])).toThrow(TypeError)
      expect(db.pragma('synchronous', { simple: true })).toBe(FULL)
    } finally {
      db.close()
    }
  })
})
