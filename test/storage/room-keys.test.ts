// Migration 3: room name keys recomputed by the stricter rule. A database written by the previous
// version, holding rooms that now fold together, opens with every room kept and the clash logged.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openStorage } from '../../src/storage/index.js'
import { migrations } from '../../src/storage/migrations.js'
import { tempDir } from '../helper.js'

/** A schema-2 database as the previous release left it: its key was NFC + toLowerCase. */
function schemaTwo (path: string, names: string[]): void {
  const db = new Database(path)
  try {
    db.exec(migrations[0] as string)
    db.exec(migrations[1] as string)
    db.pragma('user_version = 2')
    db.prepare("INSERT INTO users (username, password_hash, created_at) VALUES ('owner', 'x', '2026-01-01T00:00:00.000Z')").run()
    const insert = db.prepare('INSERT INTO rooms (name, name_key, topic, created_at) VALUES (?, ?, ?, ?)')
    for (const name of names) insert.run(name, name.normalize('NFC').toLowerCase(), '', '2026-01-01T00:00:00.000Z')
  } finally {
    db.close()
  }
}

describe('migration 3: room name keys', () => {
  it('recomputes every key, keeps rooms that now collide, logs each clash, and refuses new look-alikes', async () => {
    const path = join(tempDir(), 'chat.db')
    schemaTwo(path, ['General', 'Development', 'Gen\u200beral', 'Ｇｅｎｅｒａｌ', 'Random'])
    const logged: string[] = []
    const storage = openStorage(path, new FernetRing([Fernet.generateKey()]), { log: (m) => logged.push(m) })
    try {
      expect((await storage.rooms.list()).map((r) => r.name)).toEqual(['Development', 'General', 'Gen\u200beral', 'Ｇｅｎｅｒａｌ', 'Random'])
      expect(logged).toHaveLength(2)
      expect(logged[0]).toContain('Room 3')
      expect(logged[0]).toContain('room 1 "General"')
      expect(await storage.rooms.create('GENERAL', '', 1)).toBeNull()
      expect(await storage.rooms.create('Ge\u0301neral', '', 1)).toBeNull()
      expect(await storage.rooms.create('random', '', 1)).toBeNull()
      expect((await storage.rooms.create('Something new', '', 1))?.name).toBe('Something new')
    } finally {
      await storage.close()
    }
    const db = new Database(path, { readonly: true })
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(migrations.length)
      const keys = db.prepare('SELECT id, name_key FROM rooms ORDER BY id').raw().all()
      expect(keys.slice(0, 5)).toEqual([[1, 'general'], [2, 'development'], [3, 'general\u001f3'], [4, 'general\u001f4'], [5, 'random']])
    } finally {
      db.close()
    }
  })
})
