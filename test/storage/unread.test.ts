// Unread counts come from counters kept with each insert and marker (migration 3): exact, capped
// at UNREAD_CAP, and computed without reading a single message row.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { migrations } from '../../src/storage/migrations.js'
import { openStorage, type Storage } from '../../src/storage/index.js'
import { UNREAD_CAP } from '../../src/storage/reads.js'
import { tempDir } from '../helper.js'

const opened: Storage[] = []
function open (path: string): Storage {
  const storage = openStorage(path, new FernetRing([Fernet.generateKey()]))
  opened.push(storage)
  return storage
}
afterEach(async () => { for (const s of opened.splice(0)) await s.close() })

/** The definition, straight from the rows: others' messages after the marker, capped. */
function oracle (db: Database.Database, userId: number): Map<number, { unreadCount: number, lastReadId: number | null }> {
  const rows = db.prepare(`SELECT r.id AS roomId, m.last_read_id AS lastReadId,
      (SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.id > coalesce(m.last_read_id, 0) AND x.user_id != ?) AS unread
    FROM rooms r LEFT JOIN read_markers m ON m.room_id = r.id AND m.user_id = ?`).all(userId, userId) as Array<{ roomId: number, lastReadId: number | null, unread: number }>
  return new Map(rows.map((r) => [r.roomId, { unreadCount: Math.min(r.unread, UNREAD_CAP), lastReadId: r.lastReadId }]))
}

async function listed (storage: Storage, userId: number) {
  return new Map([...await storage.reads.forUser(userId)].map(([id, s]) => [id, { unreadCount: s.unreadCount, lastReadId: s.lastReadId }]))
}

/** A small deterministic generator, so a failure can be replayed. */
function lcg (seed: number): (n: number) => number {
  let state = seed
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state % n
  }
}

describe('unread counts', () => {
  it('are computed from counters: the room list answers with the messages table gone', async () => {
    const path = join(tempDir(), 'chat.db')
    const storage = open(path)
    const alice = (await storage.users.create('alice', 'hash'))!
    const bob = (await storage.users.create('bob', 'hash'))!
    const ids = (await storage.messages.insertBatch(Array.from({ length: 10 }, (_, i) => ({ roomId: 1, author: i % 3 === 0 ? alice : bob, body: `m${i}` }))))
      .map((r) => (r.ok ? r.value.message.id : 0))
    await storage.reads.markRead(alice.id, 1, ids[4]!)
    const before = await listed(storage, alice.id)
    expect(before.get(1)).toEqual({ unreadCount: 3, lastReadId: ids[4] }) // bob's m5, m7 and m8 (alice sent m6 and m9)
    const roomList = await storage.rooms.listFor(alice.id) // what GET /api/rooms answers
    expect(roomList.map((r) => r.name)).toEqual(['Development', 'General', 'Support'])
    expect(roomList.find((r) => r.id === 1)).toMatchObject({ unreadCount: 3, lastReadId: ids[4] })

    // Another connection hides the messages: a listing that read message rows would now fail.
    const other = new Database(path)
    other.exec('ALTER TABLE messages RENAME TO messages_hidden')
    other.close()
    expect(await listed(storage, alice.id)).toEqual(before)
    expect(await storage.rooms.listFor(alice.id)).toEqual(roomList)
  })

  it('match the definition through random sends and markers, in both counting directions, capped', async () => {
    const path = join(tempDir(), 'chat.db')
    const storage = open(path)
    const rows = new Database(path, { readonly: true })
    const users = await Promise.all(['alice', 'bob', 'carol'].map(async (name) => (await storage.users.create(name, 'hash'))!))
    const rooms = [1, 2, (await storage.rooms.create('Busy', '', users[0]!.id))!.id]
    const random = lcg(42)
    const sent: Array<{ id: number, roomId: number }> = []
    const agree = async (): Promise<void> => {
      for (const u of users) {
        const expected = oracle(rows, u.id)
        expect(await listed(storage, u.id)).toEqual(expected)
        for (const room of await storage.rooms.listFor(u.id)) expect({ unreadCount: room.unreadCount, lastReadId: room.lastReadId }).toEqual(expected.get(room.id))
      }
    }
    for (let step = 0; step < 60; step++) {
      const batch = Array.from({ length: 1 + random(40) }, () => ({ roomId: rooms[random(3)]!, author: users[random(3)]!, body: 'x' }))
      for (const r of await storage.messages.insertBatch(batch)) if (r.ok) sent.push({ id: r.value.message.id, roomId: r.value.message.roomId })
      // Markers anywhere: behind the last one (ignored), in the middle (counted from either end),
      // past the newest message (stops there).
      for (let k = 0; k < 3; k++) {
        const target = sent[random(sent.length)]!
        await storage.reads.markRead(users[random(3)]!.id, target.roomId, random(4) === 3 ? 10_000_000 : target.id)
      }
      await agree()
    }
    // Far past the cap: alice's own messages after her marker never count; bob's stop at the cap.
    await storage.messages.insertBatch(Array.from({ length: 1500 }, () => ({ roomId: 2, author: users[0]!, body: 'mine' })))
    await storage.messages.insertBatch(Array.from({ length: 1200 }, () => ({ roomId: 2, author: users[1]!, body: 'theirs' })))
    await agree()
    expect((await listed(storage, users[2]!.id)).get(2)?.unreadCount).toBe(UNREAD_CAP)
    rows.close()
  })

  it('are backfilled for a database written before the counters (schema 2)', async () => {
    const path = join(tempDir(), 'chat.db')
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    for (const sql of migrations.slice(0, 2)) old.exec(sql as string)
    old.pragma('user_version = 2')
    const now = new Date().toISOString()
    for (const name of ['alice', 'bob']) old.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run(name, 'hash', now)
    for (const name of ['One', 'Two', 'Quiet']) old.prepare('INSERT INTO rooms (name, name_key, topic, created_at) VALUES (?, ?, ?, ?)').run(name, name.toLowerCase(), '', now)
    const insert = old.prepare('INSERT INTO messages (room_id, user_id, body, created_at) VALUES (?, ?, ?, ?)')
    const random = lcg(7)
    for (let i = 0; i < 400; i++) insert.run(1 + random(2), 1 + random(2), 'not decrypted here', now)
    // alice read room 1 halfway; bob read room 2 near the end; nobody marked room 3.
    old.prepare('INSERT INTO read_markers (user_id, room_id, last_read_id) VALUES (?, ?, ?)').run(1, 1, 200)
    old.prepare('INSERT INTO read_markers (user_id, room_id, last_read_id) VALUES (?, ?, ?)').run(2, 2, 390)
    const expected = [1, 2].map((u) => oracle(old, u))
    old.close()

    const storage = open(path)
    expect(await Promise.all([1, 2].map(async (u) => listed(storage, u)))).toEqual(expected)
    expect(expected[0]!.get(1)!.unreadCount).toBeGreaterThan(0)
    // And the counters go on from there.
    await storage.messages.insert({ roomId: 1, author: { id: 2, username: 'bob' }, body: 'new' })
    expect((await listed(storage, 1)).get(1)!.unreadCount).toBe(expected[0]!.get(1)!.unreadCount + 1)
  })
})
