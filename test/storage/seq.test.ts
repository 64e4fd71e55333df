// seq, each room's change counter (migration 5): 1, 2, 3… per room with no gap, taken in the
// transaction that inserts the message; existing databases are numbered in id order.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openStorage, type Storage } from '../../src/storage/index.js'
import { migrations } from '../../src/storage/migrations.js'
import { tempDir } from '../helper.js'

const opened: Storage[] = []
function open (path: string): Storage {
  const storage = openStorage(path, new FernetRing([Fernet.generateKey()]))
  opened.push(storage)
  return storage
}
afterEach(async () => { for (const s of opened.splice(0)) await s.close() })

const seqs = async (storage: Storage, roomId: number): Promise<number[]> =>
  (await storage.messages.history(roomId, { limit: 500 })).messages.map((m) => m.seq)
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

describe('seq', () => {
  it('is 1..N per room without gaps, across batches that span rooms, a failed send and a deduplicated retry', async () => {
    const storage = open(join(tempDir(), 'chat.db'))
    const alice = (await storage.users.create('alice', 'hash'))!
    const results = await storage.messages.insertBatch([
      { roomId: 1, author: alice, body: 'a1' },
      { roomId: 2, author: alice, body: 'b1' },
      { roomId: 999, author: alice, body: 'no such room' },
      { roomId: 1, author: alice, body: 'a2', clientId: 'c1' },
      { roomId: 1, author: alice, body: 'a2 again', clientId: 'c1' },
      { roomId: 2, author: alice, body: 'b2' }
    ])
    expect(results.map((r) => (r.ok ? r.value.message.seq : null))).toEqual([1, 1, null, 2, 2, 2])
    expect(results.map((r) => (r.ok ? r.value.created : null))).toEqual([true, true, null, true, false, true])
    await storage.messages.insert({ roomId: 1, author: alice, body: 'a3' })
    await storage.messages.insertBatch(Array.from({ length: 40 }, (_, i) => ({ roomId: 1 + (i % 3), author: alice, body: `m${i}` })))
    expect(await seqs(storage, 1)).toEqual(range(3 + 14))
    expect(await seqs(storage, 2)).toEqual(range(2 + 13))
    expect(await seqs(storage, 3)).toEqual(range(13))
    const rooms = await storage.rooms.list()
    expect(Object.fromEntries(rooms.map((r) => [r.id, r.lastSeq]))).toEqual({ 1: 17, 2: 15, 3: 13 })
    expect((await storage.rooms.get(1))?.lastSeq).toBe(17)
    expect((await storage.rooms.listFor(alice.id)).find((r) => r.id === 2)?.lastSeq).toBe(15)
  })

  it('is given to the messages of a schema-4 database in id order, per room, and goes on from there', async () => {
    const path = join(tempDir(), 'chat.db')
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    for (const migration of migrations.slice(0, 4)) {
      if (typeof migration === 'string') old.exec(migration)
      else migration(old, () => {})
    }
    old.pragma('user_version = 4')
    const now = new Date().toISOString()
    old.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run('alice', 'hash', now)
    for (const name of ['one', 'two']) old.prepare('INSERT INTO rooms (name, name_key, topic, created_at) VALUES (?, ?, ?, ?)').run(name, name, '', now)
    const insert = old.prepare('INSERT INTO messages (room_id, user_id, body, created_at) VALUES (?, 1, ?, ?)')
    const rooms = [1, 2, 1, 1, 2, 1]
    for (const room of rooms) insert.run(room, 'not decrypted here', now)
    old.close()

    open(path)
    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT room_id, seq FROM messages ORDER BY id').raw().all()).toEqual([[1, 1], [2, 1], [1, 2], [1, 3], [2, 2], [1, 4]])
    expect(db.prepare('SELECT id, last_seq FROM rooms ORDER BY id').raw().all()).toEqual([[1, 4], [2, 2]])
    db.close()
    const storage = opened[0]!
    const next = await storage.messages.insert({ roomId: 2, author: { id: 1, username: 'alice' }, body: 'new' })
    expect(next.message.seq).toBe(3)
  })

  it('is unique per room in the database itself', async () => {
    const path = join(tempDir(), 'chat.db')
    const storage = open(path)
    const alice = (await storage.users.create('alice', 'hash'))!
    await storage.messages.insert({ roomId: 1, author: alice, body: 'one' })
    const db = new Database(path)
    expect(() => db.prepare("INSERT INTO messages (room_id, user_id, body, created_at, seq) VALUES (1, 1, 'x', '', 1)").run()).toThrow(/UNIQUE/)
    db.close()
  })
})
