// The Store contract, run against both stores: SqliteStore on a temp file and PgStore in a fresh
// PostgreSQL schema per test. Same calls, same answers. PostgreSQL must be reachable (see
// test/pg-helper.ts): these tests fail without it, they never skip.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { KeyMismatchError, openStorage, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import { createTestSchema, type TestSchema } from '../pg-helper.js'
import { tempDir } from '../helper.js'

interface Opened {
  store: Store
  /** Runs one SQL statement straight on the database (to tamper with a row, or count rows): the rows it returns. */
  exec: (statement: string) => Promise<number>
  /** Opens the same database again with other keys. */
  reopen: (keys: string[]) => Promise<Store>
}

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

const stores: Record<'sqlite' | 'postgres', (key: string) => Promise<Opened>> = {
  async sqlite (key) {
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, new FernetRing([key]))
    cleanups.push(async () => store.close())
    return {
      store,
      async exec (statement) {
        const db = new Database(path)
        try {
          const prepared = db.prepare(statement)
          return prepared.reader ? prepared.all().length : (prepared.run(), 0)
        } finally {
          db.close()
        }
      },
      async reopen (keys) {
        const other = openStorage(path, new FernetRing(keys))
        cleanups.push(async () => other.close())
        return other
      }
    }
  },
  async postgres (key) {
    const schema: TestSchema = await createTestSchema()
    cleanups.push(schema.drop)
    const store = await openPgStore(schema.url, new FernetRing([key]), { max: 4 })
    cleanups.push(async () => store.close())
    return {
      store,
      async exec (statement) { return (await schema.sql.unsafe(statement)).length },
      async reopen (keys) {
        const other = await openPgStore(schema.url, new FernetRing(keys), { max: 2 })
        cleanups.push(async () => other.close())
        return other
      }
    }
  }
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe.each(['sqlite', 'postgres'] as const)('Store contract: %s', (dialect) => {
  const open = async (key = Fernet.generateKey()) => stores[dialect](key)

  it('opens migrated, with the three seed rooms by name, healthy, and says which dialect it is', async () => {
    const { store } = await open()
    expect(store.dialect).toBe(dialect)
    expect(await store.healthy()).toBe(true)
    const rooms = await store.rooms.list()
    expect(rooms.map((r) => [r.id, r.name, r.topic, r.createdBy, r.lastSeq])).toEqual([
      [2, 'Development', 'Engineering and product updates', null, 0],
      [1, 'General', 'Company-wide discussions', null, 0],
      [3, 'Support', 'Customer success and support chats', null, 0]
    ])
    for (const room of rooms) expect(room.createdAt).toMatch(ISO)
  })

  it('refuses keys that cannot read it; opens with the old key second', async () => {
    const key = Fernet.generateKey()
    const { reopen } = await open(key)
    await expect(reopen([Fernet.generateKey()])).rejects.toThrow(KeyMismatchError)
    const again = await reopen([Fernet.generateKey(), key])
    expect(await again.rooms.exists(1)).toBe(true)
  })

  it('users: create once per name whatever its case, find for login and by id', async () => {
    const { store } = await open()
    const alice = (await store.users.create('Alice', 'hash-a'))!
    expect(alice).toEqual({ id: expect.any(Number), username: 'Alice', createdAt: expect.stringMatching(ISO), isAdmin: true }) // the first account
    expect(await store.users.create('alice', 'other')).toBeNull()
    expect(await store.users.findForLogin('ALICE')).toEqual({ user: alice, passwordHash: 'hash-a' })
    expect(await store.users.findForLogin('bob')).toBeNull()
    expect(await store.users.findById(alice.id)).toEqual(alice)
    expect(await store.users.findById(9999)).toBeNull()
  })

  it('rooms: create by folded name, get, exists, list in name order', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const room = (await store.rooms.create('Zeta', 'last', alice.id))!
    expect(room).toEqual({ id: 4, name: 'Zeta', topic: 'last', createdBy: { id: alice.id, username: 'alice' }, createdAt: expect.stringMatching(ISO), lastSeq: 0, kind: 'public', archived: false })
    expect(await store.rooms.create('ZETA', '', alice.id)).toBeNull()
    expect(await store.rooms.create('Ｚｅｔａ', '', alice.id)).toBeNull()
    await store.rooms.create('alpha', '', alice.id)
    expect(await store.rooms.get(4)).toEqual(room)
    expect(await store.rooms.get(99)).toBeNull()
    expect([await store.rooms.exists(4), await store.rooms.exists(99)]).toEqual([true, false])
    expect((await store.rooms.list()).map((r) => r.name)).toEqual(['alpha', 'Development', 'General', 'Support', 'Zeta'])
  })

  it('rooms: a room list shows at once what another process changed (rename, new room, archive, a topic set in SQL)', async () => {
    const key = Fernet.generateKey()
    const opened = await open(key)
    const second = await opened.reopen([key]) // another node on the same database
    const alice = (await opened.store.users.create('alice', 'h'))!
    const names = async (): Promise<string[]> => (await opened.store.rooms.listFor(alice.id)).map((r) => `${r.name}${r.archived ? ' (archived)' : ''}:${r.topic}`)
    const before = await names()
    expect(before).toEqual(['Development:Engineering and product updates', 'General:Company-wide discussions', 'Support:Customer success and support chats'])
    await second.rooms.update(1, { name: 'Everyone' }, { roomId: 1, action: 'room_updated', actorId: alice.id })
    await second.rooms.create('Alpha', 'first', alice.id)
    expect(await names()).toEqual(['Alpha:first', 'Development:Engineering and product updates', 'Everyone:Company-wide discussions', 'Support:Customer success and support chats'])
    await second.rooms.update(3, { archived: true }, { roomId: 3, action: 'room_updated', actorId: alice.id })
    await opened.exec("UPDATE rooms SET topic = 'set by hand' WHERE id = 2")
    expect(await names()).toEqual(['Alpha:first', 'Development:set by hand', 'Everyone:Company-wide discussions', 'Support (archived):Customer success and support chats'])
    // What moves per message is read on every call: the seq and the unread count.
    const bob = (await second.users.create('bob', 'h'))!
    await second.messages.insert({ roomId: 2, author: bob, body: 'hello' })
    const development = (await opened.store.rooms.listFor(alice.id)).find((r) => r.id === 2)!
    expect([development.lastSeq, development.unreadCount]).toEqual([1, 1])
  })

  it('messages: stored encrypted, read back the same (attachments, ISO times), one per clientId, a missing room fails alone', async () => {
    const { store, exec } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const attachment = { url: '/media/a.pdf', name: 'a.pdf', mime: 'application/pdf', size: 3, kind: 'file' as const }
    const first = await store.messages.insert({ roomId: 1, author: alice, body: 'héllo 👋', attachment, clientId: 'c1' })
    expect(first).toEqual({ created: true, message: { id: expect.any(Number), roomId: 1, author: { id: alice.id, username: 'alice' }, body: 'héllo 👋', attachment, clientId: 'c1', createdAt: expect.stringMatching(ISO), seq: 1, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null } })
    expect(await store.messages.insert({ roomId: 1, author: alice, body: 'retry', clientId: 'c1' })).toEqual({ created: false, message: first.message })
    const results = await store.messages.insertBatch([
      { roomId: 1, author: alice, body: 'a' },
      { roomId: 999, author: alice, body: 'nowhere' },
      { roomId: 1, author: alice, body: 'b', clientId: 'c2' },
      { roomId: 1, author: alice, body: 'b again', clientId: 'c2' }
    ])
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true])
    expect(results.map((r) => r.ok && r.value.created)).toEqual([true, false, true, false])
    const page = await store.messages.history(1, { limit: 10 })
    expect(page.messages.map((m) => [m.body, m.seq])).toEqual([['héllo 👋', 1], ['a', 2], ['b', 3]])
    expect(page.messages[0]).toEqual(first.message)
    // At rest: tokens only.
    expect(await exec('SELECT 1 FROM messages')).toBe(3)
    // (Plaintext with characters outside base64url: a random token may well contain "llo".)
    expect(await exec("SELECT 1 FROM messages WHERE body NOT LIKE 'gAAAAA%'")).toBe(0)
    expect(await exec("SELECT 1 FROM messages WHERE body LIKE '%héllo%' OR body = 'a' OR attachment LIKE '%a.pdf%'")).toBe(0)
  })

  it('one batch: sends take seqs and growing ids in order; retries answer the first message; a send that cannot go in fails alone', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const bob = (await store.users.create('bob', 'h'))!
    const before = (await store.messages.insert({ roomId: 2, author: alice, body: 'stored', clientId: 'k0' })).message
    const gone = (await store.messages.insert({ roomId: 1, author: bob, body: 'to delete' })).message
    await store.lifecycle.remove(1, gone.id)
    await store.rooms.update(3, { archived: true }, { roomId: 3, action: 'room_updated', actorId: alice.id })
    const results = await store.messages.insertBatch([
      { roomId: 1, author: alice, body: 'one', clientId: 'k1' },
      { roomId: 2, author: alice, body: 'retry of stored', clientId: 'k0' },
      { roomId: 2, author: bob, body: 'same clientId, other sender', clientId: 'k0' },
      { roomId: 1, author: alice, body: 'retry in batch', clientId: 'k1' },
      { roomId: 999, author: alice, body: 'no room' },
      { roomId: 3, author: alice, body: 'archived' },
      { roomId: 1, author: bob, body: 'reply to nothing', replyTo: 987654 },
      { roomId: 1, author: bob, body: 'reply to a tombstone', replyTo: gone.id },
      { roomId: 1, author: bob, body: 'reply', replyTo: before.id }, // a message of another room
      { roomId: 1, author: bob, body: 'two', replyTo: null, mentions: [alice] },
      { roomId: 2, author: alice, body: 'three' }
    ])
    expect(results.map((r) => (r.ok ? (r.value.created ? 'new' : 'retry') : (r.error as Error).name))).toEqual([
      'new', 'retry', 'new', 'retry', 'RoomMissingError', 'RoomArchivedError', 'MessageMissingError', 'MessageDeletedError', 'MessageMissingError', 'new', 'new'
    ])
    const messages = results.flatMap((r) => (r.ok ? [r.value.message] : []))
    expect(messages.map((m) => [m.body, m.roomId, m.seq])).toEqual([
      ['one', 1, 3], ['stored', 2, 1], ['same clientId, other sender', 2, 2], ['one', 1, 3], ['two', 1, 4], ['three', 2, 3]
    ])
    expect(messages[1]).toEqual(before)
    expect(messages[3]).toEqual(messages[0])
    // Ids grow in input order, above every earlier one: an after= cursor misses none of them.
    const created = results.flatMap((r) => (r.ok && r.value.created ? [r.value.message.id] : []))
    expect(created).toEqual([...created].sort((a, b) => a - b))
    expect(created[0]).toBeGreaterThan(gone.id)
    // What the batch returned is what was stored.
    expect((await store.messages.history(1, { limit: 10, after: gone.id })).messages).toEqual([messages[0], messages[4]])
    expect((await store.messages.history(2, { limit: 10 })).messages).toEqual([before, messages[2], messages[5]])
    expect(messages[4]!.mentions).toEqual([{ id: alice.id, username: 'alice' }])
    // Counters moved by the new messages only (room 1: bob's delete took a seq too).
    const rooms = new Map((await store.rooms.listFor(bob.id)).map((r) => [r.id, r]))
    expect([rooms.get(1)!.lastSeq, rooms.get(2)!.lastSeq]).toEqual([4, 3])
    expect([rooms.get(1)!.unreadCount, rooms.get(2)!.unreadCount]).toEqual([1, 2])
  })

  it('history: pages before= and after= with no gap and no duplicate', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    await store.messages.insertBatch(Array.from({ length: 95 }, (_, i) => ({ roomId: 1, author: alice, body: `m${i}` })))
    await store.messages.insert({ roomId: 2, author: alice, body: 'elsewhere' })
    const back: string[] = []
    let page = await store.messages.history(1, { limit: 20 })
    back.unshift(...page.messages.map((m) => m.body))
    while (page.hasMore) {
      page = await store.messages.history(1, { limit: 20, before: page.messages[0]!.id })
      back.unshift(...page.messages.map((m) => m.body))
    }
    expect(back).toEqual(Array.from({ length: 95 }, (_, i) => `m${i}`))
    const forward: string[] = []
    let cursor = 0
    for (let more = true; more;) {
      const next = await store.messages.history(1, { limit: 30, after: cursor })
      forward.push(...next.messages.map((m) => m.body))
      cursor = next.messages.at(-1)?.id ?? cursor
      more = next.hasMore
    }
    expect(forward).toEqual(back)
  })

  it('seq: 1..N per room without gaps, across batches spanning rooms; lastSeq on rooms', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    for (let round = 0; round < 5; round++) {
      await store.messages.insertBatch(Array.from({ length: 7 }, (_, i) => ({ roomId: 1 + ((i + round) % 3), author: alice, body: `r${round}` })))
    }
    for (const roomId of [1, 2, 3]) {
      const seqs = (await store.messages.history(roomId, { limit: 100 })).messages.map((m) => m.seq)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    }
    const total = (await store.rooms.list()).reduce((sum, r) => sum + r.lastSeq, 0)
    expect(total).toBe(35)
  })

  it('reads: unread counts others\' messages after the marker; markers only move forward and stop at the newest', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const bob = (await store.users.create('bob', 'h'))!
    const ids = (await store.messages.insertBatch([
      { roomId: 1, author: bob, body: '1' }, { roomId: 1, author: alice, body: 'mine' }, { roomId: 1, author: bob, body: '2' }, { roomId: 1, author: bob, body: '3' }
    ])).map((r) => (r.ok ? r.value.message.id : 0))
    expect((await store.reads.forUser(alice.id)).get(1)).toEqual({ roomId: 1, unreadCount: 3, lastReadId: null })
    await store.reads.markRead(alice.id, 1, ids[2]!)
    expect((await store.reads.forUser(alice.id)).get(1)).toEqual({ roomId: 1, unreadCount: 1, lastReadId: ids[2] })
    await store.reads.markRead(alice.id, 1, ids[0]!) // backwards: ignored
    expect((await store.reads.forUser(alice.id)).get(1)?.lastReadId).toBe(ids[2])
    await store.reads.markRead(alice.id, 1, 10_000_000)
    expect((await store.reads.forUser(alice.id)).get(1)).toEqual({ roomId: 1, unreadCount: 0, lastReadId: ids[3] })
    await store.messages.insert({ roomId: 1, author: bob, body: 'later' })
    await store.messages.insert({ roomId: 1, author: alice, body: 'own, never unread' })
    const listed = (await store.rooms.listFor(alice.id)).find((r) => r.id === 1)
    expect(listed).toMatchObject({ unreadCount: 1, lastReadId: ids[3], lastSeq: 6 })
    expect((await store.rooms.listFor(bob.id)).find((r) => r.id === 1)).toMatchObject({ unreadCount: 2, lastReadId: null })
    await store.reads.markRead(alice.id, 999, 1) // no such room: nothing happens
  })

  it('tokens: revoked until they expire', async () => {
    const { store } = await open()
    await store.tokens.revoke('old', 100)
    await store.tokens.revoke('new', 10_000)
    await store.tokens.revoke('new', 10_000)
    expect(await store.tokens.purgeExpired(1000)).toBe(1)
    expect([await store.tokens.isRevoked('old'), await store.tokens.isRevoked('new')]).toEqual([false, true])
  })

  it('users.forToken: the user behind a token in one query, null once its id is revoked or for no such user, admin rights as they are now', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    expect(await store.users.forToken(alice.id, 'jti-a')).toEqual(alice)
    expect(await store.users.forToken(9999, 'jti-a')).toBeNull()
    await store.users.setAdmin('alice', false)
    expect(await store.users.forToken(alice.id, 'jti-a')).toEqual({ ...alice, isAdmin: false })
    await store.tokens.revoke('jti-a', Math.floor(Date.now() / 1000) + 3600)
    expect(await store.users.forToken(alice.id, 'jti-a')).toBeNull()
    expect(await store.users.forToken(alice.id, 'jti-b')).toEqual({ ...alice, isAdmin: false })
  })

  it('media: add, get (name decrypted), link, usage per uploader, exists, remove', async () => {
    const { store } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const records = [
      { name: 'aaaa.jpg', mime: 'image/jpeg', originalName: 'Beach 🏖.jpg', size: 1000, uploaderId: alice.id },
      { name: 'bbbb.webp', mime: 'image/webp', originalName: 'Beach-preview.webp', size: 50, uploaderId: alice.id }
    ]
    await store.media.add(records)
    expect(await store.media.get('aaaa.jpg')).toEqual({ ...records[0], roomId: null })
    expect(await store.media.usage(alice.id)).toBe(1050)
    expect(await store.media.usage(9999)).toBe(0)
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: '' })
    await store.media.link(message.id, ['aaaa.jpg', 'bbbb.webp'])
    await store.media.remove(['bbbb.webp'])
    expect([await store.media.exists('aaaa.jpg'), await store.media.exists('bbbb.webp')]).toEqual([true, false])
    expect(await store.media.get('bbbb.webp')).toBeNull()
  })

  it('unreadable rows: served empty and marked, counted once however often read', async () => {
    const { store, exec } = await open()
    const alice = (await store.users.create('alice', 'h'))!
    const { message } = await store.messages.insert({ roomId: 1, author: alice, body: 'fine' })
    const bad = await store.messages.insert({ roomId: 1, author: alice, body: 'to be spoiled' })
    await store.media.add([{ name: 'cccc.pdf', mime: 'application/pdf', originalName: 'x.pdf', size: 1, uploaderId: alice.id }])
    await exec(`UPDATE messages SET body = 'gAAAAAnot-a-token' WHERE id = ${bad.message.id}`)
    await exec("UPDATE media SET original_name = 'spoiled' WHERE name = 'cccc.pdf'")
    for (let i = 0; i < 2; i++) {
      const page = await store.messages.history(1, { limit: 10 })
      expect(page.messages[0]).toEqual(message)
      expect(page.messages[1]).toMatchObject({ id: bad.message.id, body: '', attachment: null, unreadable: true, seq: 2 })
      expect((await store.media.get('cccc.pdf'))?.originalName).toBe('file.pdf')
    }
    expect(store.unreadableRows()).toBe(2)
  })
})

describe('PgStore: a batch that fails in the database', () => {
  it('leaves nothing behind (no row, no seq, no counter) and its connection usable, rolled back', async () => {
    const schema = await createTestSchema()
    cleanups.push(schema.drop)
    // One connection: a batch that left it in a transaction, or reserved, would hold up the next.
    const store = await openPgStore(schema.url, new FernetRing([Fernet.generateKey()]), { max: 1 })
    cleanups.push(async () => store.close())
    const alice = (await store.users.create('alice', 'h'))!
    await store.messages.insert({ roomId: 1, author: alice, body: 'before' })
    // An author that does not exist: the INSERT breaks a foreign key, after the room was locked.
    await expect(store.messages.insertBatch([
      { roomId: 1, author: alice, body: 'fine' },
      { roomId: 1, author: { id: 999, username: 'ghost' }, body: 'no such user' }
    ])).rejects.toMatchObject({ code: '23503' })
    const next = await store.messages.insertBatch([{ roomId: 1, author: alice, body: 'after', clientId: 'a1' }])
    expect(next.map((r) => r.ok && r.value.message.seq)).toEqual([2])
    expect((await store.messages.history(1, { limit: 10 })).messages.map((m) => m.body)).toEqual(['before', 'after'])
    expect((await store.rooms.get(1))?.lastSeq).toBe(2)
  })
})

describe('PgStore: two nodes on one database', () => {
  it('commit batches to the same rooms concurrently: seq 1..N per room, no gap, no duplicate, one row per clientId', async () => {
    const schema = await createTestSchema()
    cleanups.push(schema.drop)
    const key = Fernet.generateKey()
    const nodes = [await openPgStore(schema.url, new FernetRing([key]), { max: 4 }), await openPgStore(schema.url, new FernetRing([key]), { max: 4 })]
    for (const node of nodes) cleanups.push(async () => node.close())
    const alice = (await nodes[0]!.users.create('alice', 'h'))!
    // 2 nodes × 4 concurrent batches each × 20 rounds; rooms in both orders (lock order is by id
    // whatever the batch's order, so no deadlock); every send carries a clientId both nodes race on.
    const work: Array<Promise<unknown>> = []
    for (let round = 0; round < 20; round++) {
      for (const [n, node] of nodes.entries()) {
        for (let b = 0; b < 4; b++) {
          const rooms = (b + n) % 2 === 0 ? [1, 2, 3] : [3, 2, 1]
          work.push(node.messages.insertBatch(rooms.map((roomId, i) => ({ roomId, author: alice, body: `r${round} b${b} i${i}`, clientId: `c-${round}-${b}-${roomId}` }))))
        }
      }
    }
    // Rooms are locked in id order and retries are looked up under the lock: no deadlock, no conflict.
    await Promise.all(work)
    const counts = new Map<number, number>()
    for (const roomId of [1, 2, 3]) {
      const page = await nodes[1]!.messages.history(roomId, { limit: 500 })
      const seqs = page.messages.map((m) => m.seq).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
      expect(new Set(page.messages.map((m) => m.clientId)).size).toBe(page.messages.length)
      // Ids grow with seq within a room: an after= cursor skips nothing.
      const byId = [...page.messages].sort((a, b) => a.id - b.id).map((m) => m.seq)
      expect(byId).toEqual(seqs)
      counts.set(roomId, seqs.length)
      expect((await nodes[0]!.rooms.get(roomId))?.lastSeq).toBe(seqs.length)
    }
    // Each clientId (per room) was sent by both nodes: stored once.
    expect([...counts.values()]).toEqual([80, 80, 80])
  })
})
