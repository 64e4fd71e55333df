// Seeds the database before the server starts, through the storage module itself: one user, the
// history room with N encrypted messages (the messages repo's insertBatch, chunks of 5000, one
// transaction each), and, for the room-list scenario, R more rooms of M messages each from the same
// user (so every other user has them all unread).
// Usage: node --import tsx bench/seed.ts <db path> <fernet key> <count> [<rooms> <per room>]
// Prints {"roomId","firstId","lastId","ms","userId","rooms","perRoom","roomsMs"} as one JSON line.
import bcrypt from 'bcryptjs'
import { performance } from 'node:perf_hooks'
import { FernetRing } from '../src/crypto/fernet.js'
import { openDatabase } from '../src/storage/database.js'
import type { NewMessage } from '../src/storage/index.js'
import { createMessagesRepo } from '../src/storage/messages.js'
import { createRoomsRepo } from '../src/storage/rooms.js'
import { createUnreadableRows } from '../src/storage/unreadable.js'
import { createUsersRepo } from '../src/storage/users.js'

const [path, key, countText, roomsText = '0', perRoomText = '0'] = process.argv.slice(2)
if (path === undefined || key === undefined || countText === undefined) {
  process.stderr.write('usage: seed.ts <db path> <fernet key> <count> [<rooms> <per room>]\n')
  process.exit(2)
}
const count = Number(countText)
const roomCount = Number(roomsText)
const perRoom = Number(perRoomText)
const CHUNK = 5000

const started = performance.now()
const ring = new FernetRing([key])
const db = openDatabase(path, ring)
// The synchronous SQLite repos under the store: the rooms below go in one transaction.
const storage = { users: createUsersRepo(db), rooms: createRoomsRepo(db), messages: createMessagesRepo(db, ring, createUnreadableRows()) }
const user = storage.users.create('bench-history', bcrypt.hashSync('not used for logging in', 4))
if (user === null) throw new Error('the seed user exists already: seed a fresh database')
const room = storage.rooms.create('Bench history', 'A million seeded messages', user.id)
if (room === null) throw new Error('the history room exists already: seed a fresh database')

const author = { id: user.id, username: user.username }
let firstId = 0
let lastId = 0
for (let done = 0; done < count; done += CHUNK) {
  const batch: NewMessage[] = []
  for (let i = done; i < Math.min(count, done + CHUNK); i++) {
    batch.push({ roomId: room.id, author, body: `Seeded history message number ${i}: the quick brown fox jumps over the lazy dog.`, clientId: null })
  }
  for (const result of storage.messages.insertBatch(batch)) {
    if (!result.ok) throw result.error
    if (firstId === 0) firstId = result.value.message.id
    lastId = result.value.message.id
  }
}
const ms = Math.round(performance.now() - started)

const roomsStarted = performance.now()
// One transaction for all the rooms, and chunks of about CHUNK messages: fsyncs are the cost here.
const roomIds = db.transaction(() => Array.from({ length: roomCount }, (_, i) => {
  const created = storage.rooms.create(`Bench room ${String(i).padStart(5, '0')}`, 'Seeded for the room list', user.id)
  if (created === null) throw new Error('a bench room exists already: seed a fresh database')
  return created.id
}))()
const roomsPerChunk = Math.max(1, Math.floor(CHUNK / Math.max(1, perRoom)))
for (let r = 0; r < roomIds.length && perRoom > 0; r += roomsPerChunk) {
  const batch: NewMessage[] = []
  for (const roomId of roomIds.slice(r, r + roomsPerChunk)) {
    for (let i = 0; i < perRoom; i++) batch.push({ roomId, author, body: `Seeded room message ${i}`, clientId: null })
  }
  for (const result of storage.messages.insertBatch(batch)) if (!result.ok) throw result.error
}
db.close()
process.stdout.write(JSON.stringify({
  roomId: room.id, firstId, lastId, ms, userId: user.id, rooms: roomCount, perRoom, roomsMs: Math.round(performance.now() - roomsStarted)
}) + '\n')
