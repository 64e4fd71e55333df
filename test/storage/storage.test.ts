import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openDatabase } from '../../src/storage/database.js'
import { createStorage, KeyMismatchError, openStorage, type Storage } from '../../src/storage/index.js'
import { tempDir } from '../helper.js'

const opened: Storage[] = []
function open (path: string, ring: FernetRing): Storage {
  const storage = openStorage(path, ring)
  opened.push(storage)
  return storage
}
afterEach(async () => { for (const s of opened.splice(0)) await s.close() })

const ringOf = (...keys: string[]) => new FernetRing(keys)

describe('opening the database', () => {
  it('sets WAL, synchronous=FULL, foreign keys, no busy wait once open (the event loop never sleeps on a lock), and migrates', async () => {
    const path = join(tempDir(), 'chat.db')
    const db = openDatabase(path, ringOf(Fernet.generateKey()))
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(2) // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true })).toBe(0)
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1)
    opened.push(createStorage(db, ringOf(Fernet.generateKey())))
  })

  it('seeds the three contract rooms once', async () => {
    const path = join(tempDir(), 'chat.db')
    const key = Fernet.generateKey()
    await open(path, ringOf(key)).close()
    const rooms = await open(path, ringOf(key)).rooms.list()
    expect(rooms.map((r) => [r.name, r.topic])).toEqual([
      ['Development', 'Engineering and product updates'],
      ['General', 'Company-wide discussions'],
      ['Support', 'Customer success and support chats']
    ])
  })

  it('refuses to open with a key that cannot read it, and changes nothing', async () => {
    const path = join(tempDir(), 'chat.db')
    await open(path, ringOf(Fernet.generateKey())).close()
    const before = readFileSync(path)
    expect(() => openStorage(path, ringOf(Fernet.generateKey()))).toThrow(KeyMismatchError)
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('opens with the old key second in the ring', async () => {
    const path = join(tempDir(), 'chat.db')
    const oldKey = Fernet.generateKey()
    await open(path, ringOf(oldKey)).close()
    expect(() => open(path, ringOf(Fernet.generateKey(), oldKey))).not.toThrow()
  })

  it('refuses a database from a newer version', async () => {
    const path = join(tempDir(), 'chat.db')
    const key = Fernet.generateKey()
    await open(path, ringOf(key)).close()
    const db = new Database(path)
    db.pragma('user_version = 999')
    db.close()
    expect(() => openStorage(path, ringOf(key))).toThrow(/newer Secure Chat/)
  })

  it('opens an up-to-date database without a write transaction (another writer holding the lock does not stop it)', () => {
    const path = join(tempDir(), 'chat.db')
    const key = Fernet.generateKey()
    open(path, ringOf(key)).close()
    const writer = new Database(path)
    writer.exec('BEGIN IMMEDIATE')
    try {
      const db = openDatabase(path, ringOf(key))
      db.pragma('busy_timeout = 0') // the check below must not wait either
      expect(db.prepare('SELECT count(*) FROM rooms').pluck().get()).toBe(3)
      db.close()
    } finally {
      writer.exec('ROLLBACK')
      writer.close()
    }
  })
})

describe('messages at rest', () => {
  it('never writes a body in plaintext, to the file or its WAL', async () => {
    const dir = tempDir()
    const path = join(dir, 'chat.db')
    const storage = open(path, ringOf(Fernet.generateKey()))
    const alice = (await storage.users.create('alice', 'hash'))!
    const marker = 'PLAINTEXT-MARKER-7f3a9'
    await storage.messages.insert({ roomId: 1, author: alice, body: `secret ${marker}`, attachment: { url: '/media/x', name: `${marker}.pdf`, mime: 'application/pdf', size: 1, kind: 'file' } })
    const files = [path, `${path}-wal`].map((f) => { try { return readFileSync(f) } catch { return Buffer.alloc(0) } })
    expect(files[1]!.length).toBeGreaterThan(0)
    for (const bytes of files) expect(bytes.includes(marker)).toBe(false)
    expect((await storage.messages.history(1, { limit: 1 })).messages[0]!.body).toBe(`secret ${marker}`)
  })

  it('stores one row per (room, sender, clientId) and returns the first on a retry', async () => {
    const storage = open(join(tempDir(), 'chat.db'), ringOf(Fernet.generateKey()))
    const alice = (await storage.users.create('alice', 'hash'))!
    const first = await storage.messages.insert({ roomId: 1, author: alice, body: 'one', clientId: 'c-1' })
    const again = await storage.messages.insert({ roomId: 1, author: alice, body: 'different', clientId: 'c-1' })
    expect(first.created).toBe(true)
    expect(again).toEqual({ message: first.message, created: false })
    expect((await storage.messages.insert({ roomId: 2, author: alice, body: 'other room', clientId: 'c-1' })).created).toBe(true)
    expect((await storage.messages.history(1, { limit: 10 })).messages).toHaveLength(1)
  })

  it('fails one send of a batch alone', async () => {
    const storage = open(join(tempDir(), 'chat.db'), ringOf(Fernet.generateKey()))
    const alice = (await storage.users.create('alice', 'hash'))!
    const results = await storage.messages.insertBatch([
      { roomId: 1, author: alice, body: 'a' },
      { roomId: 999, author: alice, body: 'no such room' },
      { roomId: 1, author: alice, body: 'b' }
    ])
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    expect((await storage.messages.history(1, { limit: 10 })).messages.map((m) => m.body)).toEqual(['a', 'b'])
  })
})

describe('history pages', () => {
  it('reads 250 messages page by page with before and with after: no gap, no duplicate', async () => {
    const storage = open(join(tempDir(), 'chat.db'), ringOf(Fernet.generateKey()))
    const alice = (await storage.users.create('alice', 'hash'))!
    await storage.messages.insertBatch(Array.from({ length: 250 }, (_, i) => ({ roomId: 1, author: alice, body: `m${i}` })))
    await storage.messages.insert({ roomId: 2, author: alice, body: 'elsewhere' })

    const backwards: string[] = []
    let page = await storage.messages.history(1, { limit: 40 })
    backwards.unshift(...page.messages.map((m) => m.body))
    while (page.hasMore) {
      page = await storage.messages.history(1, { limit: 40, before: page.messages[0]!.id })
      backwards.unshift(...page.messages.map((m) => m.body))
    }
    expect(backwards).toEqual(Array.from({ length: 250 }, (_, i) => `m${i}`))

    const forwards: string[] = []
    let cursor = 0
    let more = true
    while (more) {
      const next = await storage.messages.history(1, { limit: 33, after: cursor })
      forwards.push(...next.messages.map((m) => m.body))
      cursor = next.messages.at(-1)?.id ?? cursor
      more = next.hasMore
    }
    expect(forwards).toEqual(backwards)
  })
})

describe('read markers', () => {
  it('count others\' messages after the marker, and only move forward', async () => {
    const storage = open(join(tempDir(), 'chat.db'), ringOf(Fernet.generateKey()))
    const alice = (await storage.users.create('alice', 'hash'))!
    const bob = (await storage.users.create('bob', 'hash'))!
    const ids = (await storage.messages.insertBatch([
      { roomId: 1, author: bob, body: '1' }, { roomId: 1, author: alice, body: 'mine' }, { roomId: 1, author: bob, body: '2' }
    ])).map((r) => r.ok ? r.value.message.id : 0)
    expect((await storage.reads.forUser(alice.id)).get(1)).toEqual({ roomId: 1, unreadCount: 2, lastReadId: null })
    await storage.reads.markRead(alice.id, 1, ids[0]!)
    expect((await storage.reads.forUser(alice.id)).get(1)).toEqual({ roomId: 1, unreadCount: 1, lastReadId: ids[0] })
    await storage.reads.markRead(alice.id, 1, 0)
    expect((await storage.reads.forUser(alice.id)).get(1)?.lastReadId).toBe(ids[0])
    // A marker past the newest message stops at it: later messages still count as unread.
    await storage.reads.markRead(alice.id, 1, 1_000_000)
    expect((await storage.reads.forUser(alice.id)).get(1)?.lastReadId).toBe(ids[2])
    await storage.messages.insert({ roomId: 1, author: bob, body: '3' })
    expect((await storage.reads.forUser(alice.id)).get(1)?.unreadCount).toBe(1)
  })
})

describe('revoked tokens', () => {
  it('are kept until they expire', async () => {
    const storage = open(join(tempDir(), 'chat.db'), ringOf(Fernet.generateKey()))
    await storage.tokens.revoke('old', 100)
    await storage.tokens.revoke('new', 10_000)
    expect(await storage.tokens.purgeExpired(1000)).toBe(1)
    expect(await storage.tokens.isRevoked('old')).toBe(false)
    expect(await storage.tokens.isRevoked('new')).toBe(true)
  })
})
