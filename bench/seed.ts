// Seeds the history room before the server starts: one user, one room, N encrypted messages,
// written through the storage module's own batch insert (chunks of 5000, one transaction each).
// Usage: node --import tsx bench/seed.ts <db path> <fernet key> <count>
// Prints {"roomId","firstId","lastId","ms"} as one JSON line.
import bcrypt from 'bcryptjs'
import { performance } from 'node:perf_hooks'
import { FernetRing } from '../src/crypto/fernet.js'
import { openStorage, type NewMessage } from '../src/storage/index.js'

const [path, key, countText] = process.argv.slice(2)
if (path === undefined || key === undefined || countText === undefined) {
  process.stderr.write('usage: seed.ts <db path> <fernet key> <count>\n')
  process.exit(2)
}
const count = Number(countText)
const CHUNK = 5000

const started = performance.now()
const storage = openStorage(path, new FernetRing([key]))
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
storage.close()
process.stdout.write(JSON.stringify({ roomId: room.id, firstId, lastId, ms: Math.round(performance.now() - started) }) + '\n')
