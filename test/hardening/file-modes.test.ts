// Data files are owner-only (0600) and the folders we create 0700: the database and its -wal/-shm
// hold password hashes and names, backups the same, the media folder private files. Real files in
// a temp dir, checked with stat.
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openDatabase } from '../../src/storage/database.js'
import { backupDatabase } from '../../src/storage/maintenance.js'
import { bearer, buildTestApp, registerUser, tempDir } from '../helper.js'
import { makePdf, makePng, upload } from '../uploads/helpers.js'

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8)

describe('file modes', () => {
  it('the database, its -wal and -shm, the search index file, the media folder and uploaded files are owner-only', async () => {
    const dir = tempDir()
    chmodSync(dir, 0o755) // the operator's folder: left as it is
    const t = await buildTestApp({ DATABASE_URL: join(dir, 'data', 'chat.db'), MEDIA_DIR: join(dir, 'files', 'media') }, dir)
    try {
      const { token } = await registerUser(t.app)
      const sent = await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', payload: { body: 'hello' }, headers: bearer(token) })
      expect(sent.statusCode).toBe(201)
      expect((await upload(t.app, token, { bytes: await makePng(40, 30), filename: 'p.png' })).statusCode).toBe(201)
      expect((await upload(t.app, token, { bytes: makePdf(), filename: 'd.pdf' })).statusCode).toBe(201)

      const db = t.config.databasePath
      expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`)).toBe(true)
      expect({ db: mode(db), wal: mode(`${db}-wal`), shm: mode(`${db}-shm`) }).toEqual({ db: '600', wal: '600', shm: '600' })
      // The search index's own file (written by its thread) and its log, once the message is in it.
      await vi.waitFor(async () => {
        const { indexed, total } = await t.app.storage.search.progress()
        expect(indexed === total && total > 0).toBe(true)
      })
      const index = `${db}-search`
      expect({ index: mode(index), wal: mode(`${index}-wal`), shm: mode(`${index}-shm`) }).toEqual({ index: '600', wal: '600', shm: '600' })
      expect(mode(join(dir, 'data'))).toBe('700')
      expect(mode(join(dir, 'files'))).toBe('700')
      expect(mode(t.config.mediaDir)).toBe('700')
      const files = readdirSync(t.config.mediaDir)
      expect(files).toHaveLength(3) // the PNG, its thumbnail, the PDF
      for (const name of files) expect(mode(join(t.config.mediaDir, name)), name).toBe('600')
      expect(mode(dir)).toBe('755')
    } finally {
      await t.close()
    }
  })

  it('an existing world-readable database (and its -wal) is tightened when opened; a media folder the operator made keeps its mode', async () => {
    const dir = tempDir()
    const path = join(dir, 'chat.db')
    const key = Fernet.generateKey()
    openDatabase(path, new FernetRing([key])).close()
    chmodSync(path, 0o644)
    writeFileSync(`${path}-wal`, '')
    chmodSync(`${path}-wal`, 0o644)
    mkdirSync(join(dir, 'media'), { mode: 0o750 })
    chmodSync(join(dir, 'media'), 0o750)
    const t = await buildTestApp({ ENCRYPTION_KEY: key }, dir)
    try {
      expect(mode(path)).toBe('600')
      expect(mode(`${path}-wal`)).toBe('600')
      expect(mode(join(dir, 'media'))).toBe('750')
    } finally {
      await t.close()
    }
  })

  it('a backup is created owner-only', async () => {
    const dir = tempDir()
    const db = openDatabase(join(dir, 'chat.db'), new FernetRing([Fernet.generateKey()]))
    try {
      const file = join(dir, 'backup.db')
      await backupDatabase(db, file)
      expect(mode(file)).toBe('600')
    } finally {
      db.close()
    }
  })
})
