// The import's storage (ImportsStore) on both databases: the same calls give the same rows, and a
// batch that cannot be written whole leaves nothing of itself behind.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openDatabase } from '../../src/storage/database.js'
import { createImportsRepo, ImportConflictError, type ImportsStore } from '../../src/storage/imports.js'
import { createMediaRepo } from '../../src/storage/media.js'
import { createMessagesRepo } from '../../src/storage/messages.js'
import { connectPg } from '../../src/storage/pg/connect.js'
import { createPgImports, holdImportLock } from '../../src/storage/pg/imports.js'
import { createPgMessages } from '../../src/storage/pg/messages.js'
import { migratePg } from '../../src/storage/pg/migrate.js'
import { createUnreadableRows } from '../../src/storage/unreadable.js'
import { tempDir } from '../helper.js'
import { createTestSchema } from '../pg-helper.js'
import { STORES, type StoreKind } from './targets.js'

interface Opened {
  imports: ImportsStore
  /** The first column of each row. */
  column: (query: string) => Promise<unknown[]>
}

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

const ring = new FernetRing([Fernet.generateKey()])

async function open (kind: StoreKind): Promise<Opened> {
  const unreadable = createUnreadableRows()
  if (kind === 'sqlite') {
    const path = join(tempDir(), 'chat.db')
    const db = openDatabase(path, ring)
    cleanups.push(async () => { db.close() })
    const reader = new Database(path, { readonly: true })
    cleanups.push(async () => { reader.close() })
    return {
      imports: createImportsRepo(db, createMessagesRepo(db, ring, unreadable), createMediaRepo(db, ring, unreadable)),
      column: async (query) => reader.prepare(query).pluck().all()
    }
  }
  const schema = await createTestSchema()
  cleanups.push(schema.drop)
  const sql = connectPg(schema.url, { max: 2 })
  cleanups.push(async () => sql.end({ timeout: 1 }))
  await migratePg(sql, ring)
  return {
    imports: createPgImports(sql, createPgMessages(sql, ring, unreadable), ring, unreadable),
    column: async (query) => (await schema.sql.unsafe(query).values()).map((row) => row[0])
  }
}

const HASH = '$2b$12$' + 'a'.repeat(53)
const numbers = (values: unknown[]): number[] => values.map(Number)
const iso = (values: unknown[]): string[] => values.map((v) => new Date(v as string).toISOString())

describe.each(STORES)('ImportsStore on %s', (kind) => {
  it('adds users in order with their hash and time, and remembers where each came from', async () => {
    const { imports, column } = await open(kind)
    const ids = await imports.addUsers('src', [
      { sourceId: 7, username: 'first', passwordHash: HASH, createdAt: '2024-01-02T03:04:05.678Z' },
      { sourceId: 3, username: 'Second', passwordHash: HASH, createdAt: '2024-01-03T00:00:00.000Z' }
    ])
    expect(await column('SELECT id FROM users ORDER BY id')).toEqual(ids)
    expect(await column('SELECT password_hash FROM users ORDER BY id')).toEqual([HASH, HASH])
    expect(iso(await column('SELECT created_at FROM users ORDER BY id'))).toEqual(['2024-01-02T03:04:05.678Z', '2024-01-03T00:00:00.000Z'])
    expect(await imports.imported('src', 'user')).toEqual(new Map([[7, ids[0]], [3, ids[1]]]))
    expect(await imports.imported('other source', 'user')).toEqual(new Map())
    expect((await imports.usernames()).sort()).toEqual(['Second', 'first'])
  })

  it('writes no user of a batch when one name was taken meanwhile (whatever its case)', async () => {
    const { imports, column } = await open(kind)
    await imports.addUsers('src', [{ sourceId: 1, username: 'taken', passwordHash: HASH, createdAt: '2024-01-01T00:00:00.000Z' }])
    await expect(imports.addUsers('src', [
      { sourceId: 2, username: 'fine', passwordHash: HASH, createdAt: '2024-01-01T00:00:00.000Z' },
      { sourceId: 3, username: 'TAKEN', passwordHash: HASH, createdAt: '2024-01-01T00:00:00.000Z' }
    ])).rejects.toThrow(ImportConflictError)
    expect(await column('SELECT username FROM users')).toEqual(['taken'])
    expect([...(await imports.imported('src', 'user')).keys()]).toEqual([1])
  })

  it('makes rooms, merges into ours, and writes no room of a batch whose name is taken', async () => {
    const { imports, column } = await open(kind)
    const ours = await imports.roomKeys()
    expect(ours.map((r) => r.id)).toEqual([1, 2, 3]) // the seed rooms, oldest first
    const ids = await imports.addRooms('src', [
      { sourceId: 1, mergeInto: ours[0]!.id },
      { sourceId: 9, name: 'Random', topic: 'Anything goes', createdAt: '2024-01-01T00:00:00.000Z' }
    ])
    expect(ids[0]).toBe(ours[0]!.id)
    expect(await column(`SELECT topic FROM rooms WHERE id = ${ids[1]!}`)).toEqual(['Anything goes'])
    await expect(imports.addRooms('src', [
      { sourceId: 10, name: 'Fresh', topic: '', createdAt: '2024-01-01T00:00:00.000Z' },
      { sourceId: 11, name: 'random', topic: '', createdAt: '2024-01-01T00:00:00.000Z' }
    ])).rejects.toThrow(ImportConflictError)
    expect(await column("SELECT count(*) FROM rooms WHERE name = 'Fresh'")).toEqual([kind === 'postgres' ? '0' : 0])
    expect(await imports.imported('src', 'room')).toEqual(new Map([[1, ours[0]!.id], [9, ids[1]]]))
  })

  it('adds messages with their time and the rooms\' next seqs, files linked; a batch that fails leaves nothing', async () => {
    const { imports, column } = await open(kind)
    const [userId] = await imports.addUsers('src', [{ sourceId: 1, username: 'alice', passwordHash: HASH, createdAt: '2024-01-01T00:00:00.000Z' }])
    const author = { id: userId!, username: 'alice' }
    const file = { name: 'a'.repeat(32) + '.pdf', mime: 'application/pdf', originalName: 'plan.pdf', size: 10, uploaderId: userId! }
    await imports.addMessages('src', [
      { sourceId: 5, message: { roomId: 1, author, body: 'one', createdAt: '2024-02-01T10:00:00.123Z' }, files: [] },
      { sourceId: 6, message: { roomId: 2, author, body: '', attachment: { url: `/media/${file.name}`, name: 'plan.pdf', mime: 'application/pdf', size: 10, kind: 'file' }, createdAt: '2024-02-01T10:00:01.000Z' }, files: [file] },
      { sourceId: 7, message: { roomId: 1, author, body: 'two', createdAt: '2024-02-01T10:00:02.000Z' }, files: [] }
    ])
    const ids = numbers(await column('SELECT id FROM messages ORDER BY id'))
    expect(numbers(await column('SELECT seq FROM messages ORDER BY id'))).toEqual([1, 1, 2])
    expect(iso(await column('SELECT created_at FROM messages ORDER BY id'))).toEqual(['2024-02-01T10:00:00.123Z', '2024-02-01T10:00:01.000Z', '2024-02-01T10:00:02.000Z'])
    expect((await column('SELECT body FROM messages ORDER BY id')).map((t) => ring.decryptText(t as string))).toEqual(['one', '', 'two'])
    expect(numbers(await column('SELECT message_id FROM media'))).toEqual([ids[1]])
    expect(await imports.imported('src', 'message')).toEqual(new Map([[5, ids[0]], [6, ids[1]], [7, ids[2]]]))

    const before = await Promise.all(['SELECT count(*) FROM messages', 'SELECT count(*) FROM media', 'SELECT count(*) FROM imported', 'SELECT last_seq FROM rooms WHERE id = 1'].map(column))
    await expect(imports.addMessages('src', [
      { sourceId: 8, message: { roomId: 1, author, body: 'three', createdAt: '2024-02-01T10:00:03.000Z' }, files: [{ ...file, name: 'b'.repeat(32) + '.pdf' }] },
      { sourceId: 9, message: { roomId: 999, author, body: 'nowhere', createdAt: '2024-02-01T10:00:04.000Z' }, files: [] }
    ])).rejects.toThrow('room not found')
    const after = await Promise.all(['SELECT count(*) FROM messages', 'SELECT count(*) FROM media', 'SELECT count(*) FROM imported', 'SELECT last_seq FROM rooms WHERE id = 1'].map(column))
    expect(after).toEqual(before)
  })
})

describe('the import lock on PostgreSQL', () => {
  it('makes a second import into the same schema wait for the first, and leaves other schemas alone', async () => {
    const schemas = [await createTestSchema(), await createTestSchema()]
    const pools = schemas.map((schema) => connectPg(schema.url, { max: 2 }))
    try {
      const first = await holdImportLock(pools[0]!, () => { throw new Error('the first import had to wait') })
      // Another schema (another server's database) has a lock of its own.
      const elsewhere = await holdImportLock(pools[1]!, () => { throw new Error('another schema had to wait') })
      await elsewhere()
      let waited = false
      let holding = false
      const second = holdImportLock(pools[0]!, () => { waited = true }).then((release) => { holding = true; return release })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(waited).toBe(true)
      expect(holding).toBe(false)
      await first()
      await (await second)()
      expect(holding).toBe(true)
    } finally {
      for (const pool of pools) await pool.end({ timeout: 1 })
      for (const schema of schemas) await schema.drop()
    }
  })
})
