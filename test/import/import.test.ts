// `npm run import` on the real CLI process, from an original-format folder built here, into a
// real SQLite file and into a fresh PostgreSQL schema; then the real app on the result (logins
// with the old passwords, history, files served without their metadata).
import { spawn } from 'node:child_process'
import { readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { Fernet } from '../../src/crypto/fernet.js'
import type { Config } from '../../src/config.js'
import { bearer, selectColumn, tempDir } from '../helper.js'
import { GPS_EXIF, makeMp4, makePdf } from '../uploads/helpers.js'
import { OriginalApp } from './fixture.js'
import { openTarget, STORES, type Target } from './targets.js'

const ROOT = new URL('../../', import.meta.url)
const TSX = new URL('node_modules/tsx/dist/loader.mjs', ROOT).href
const CLI = new URL('src/cli/import.ts', ROOT).pathname

function runImport (cwd: string, env: Record<string, string>, args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.once('error', (error) => resolve({ code: -1, stdout, stderr: String(error) }))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const gpsJpeg = () => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 30, b: 90 } } })
  .jpeg().withExif(GPS_EXIF).toBuffer()

describe.each(STORES)('npm run import into %s', (kind) => {
  const dir = tempDir('secure-chat-import-')
  const originalDir = join(dir, 'old-app')
  const oursDir = join(dir, 'ours')
  let target: Target
  let config: Config
  let env: Record<string, string>
  let original: OriginalApp
  const ids: Record<string, number> = {}
  const msg: Record<string, number> = {}
  let adminOurs: { id: number }

  beforeAll(async () => {
    target = await openTarget(kind, oursDir)
    config = target.config
    env = target.env
    original = new OriginalApp(originalDir)
    ids.alice = original.addUser({ username: 'alice', password: 'alice password 1' })
    ids.Alice = original.addUser({ username: 'ALICE', password: 'other alice pw' })
    ids.jose = original.addUser({ username: 'José García', password: 'contraseña segura' })
    ids.zhang = original.addUser({ username: '张伟', password: 'zhang wei password' })
    ids.admin = original.addUser({ username: 'admin', password: 'the old admin pw' })
    ids.long = original.addUser({ username: 'a'.repeat(50), password: 'long name password' })
    ids.cost12 = original.addUser({ username: 'carol', password: 'carol at cost 12', cost: 12 })
    const random = original.addRoom('Random', 'Anything goes')
    const dev2 = original.addRoom('development', 'lower case, a room of its own in the original')
    const bidi = original.addRoom('Evil\u202eroom', null)
    msg.first = original.addMessage({ room: 1, user: ids.alice!, text: 'Hello from the old app 👋', createdAt: '2024-01-02 03:04:05.678901' })
    msg.second = original.addMessage({ room: 1, user: ids.jose!, text: '¡Hola! naïve café' })
    msg.image = original.addMessage({ room: 1, user: ids.alice!, upload: { kind: 'IMAGE', name: 'holiday photo.jpg', bytes: await gpsJpeg(), mime: 'image/jpeg' } })
    msg.video = original.addMessage({ room: random, user: ids.zhang!, upload: { kind: 'VIDEO', name: 'clip.mp4', bytes: makeMp4(), mime: 'video/mp4' } })
    msg.file = original.addMessage({ room: 2, user: ids.admin!, upload: { kind: 'FILE', name: 'report.pdf', bytes: makePdf(), mime: 'application/pdf' } })
    msg.missing = original.addMessage({ room: 1, user: ids.Alice!, upload: { kind: 'IMAGE', name: 'gone.png', mime: 'image/png' } })
    msg.spoofed = original.addMessage({ room: 1, user: ids.Alice!, upload: { kind: 'IMAGE', name: 'cute.png', bytes: Buffer.from('<html><script>alert(1)</script></html>'), mime: 'image/png' } })
    msg.system = original.addMessage({ room: dev2, user: ids.long!, text: 'long name joined', type: 'SYSTEM' })
    msg.bidi = original.addMessage({ room: bidi, user: ids.cost12!, text: 'in the renamed room' })
    // A link out of the media folder, to the original's key: never copied.
    msg.link = original.addMessage({ room: random, user: ids.zhang!, upload: { kind: 'FILE', name: 'notes.txt', bytes: Buffer.from('placeholder') } })
    const linkPath = original.db.prepare('SELECT file_path FROM messages WHERE id = ?').pluck().get(msg.link) as string
    rmSync(join(originalDir, linkPath.slice(1)))
    symlinkSync(join(originalDir, '.fernet_key'), join(originalDir, linkPath.slice(1)))
    original.close()

    // Our server ran before: it has the seed rooms, an `admin` of its own and a message in General.
    const app = await buildApp(config, { logger: false })
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'Admin', password: 'our own admin pw' } })
    adminOurs = res.json<{ user: { id: number } }>().user
    await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(res.json<{ token: string }>().token), payload: { body: 'before the import' } })
    await app.close()
  }, 60_000)

  afterAll(async () => {
    await target?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('changes nothing with a key that does not read the original\'s messages', async () => {
    const before = await target.snapshot()
    const wrongKey = join(dir, 'wrong.key')
    writeFileSync(wrongKey, Fernet.generateKey())
    const run = await runImport(oursDir, env, [originalDir, '--key-file', wrongKey])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^The key does not read the original's messages.*Nothing was imported\.\n$/)
    expect(await target.snapshot()).toEqual(before)
    expect(readdirSync(config.mediaDir)).toEqual([])
  }, 60_000)

  it('--dry-run reports what would happen and writes nothing', async () => {
    const before = await target.snapshot()
    const run = await runImport(oursDir, env, [originalDir, '--dry-run'])
    expect(run.stderr).toMatch(/^10\/10 messages · [\d,]+\/s\n$/) // not a terminal: no bar, one plain line at the end
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Dry run done: nothing was written.')
    expect(run.stdout).toContain('users:    7 imported, 5 of them renamed')
    expect(run.stdout).toContain('messages: 10 imported')
    expect(run.stdout).toContain('files:    3 imported, 1 missing, 2 refused')
    expect(await target.snapshot()).toEqual(before)
    expect(readdirSync(config.mediaDir)).toEqual([])
  }, 60_000)

  it('imports users, rooms, messages and files, and reports old → new names', async () => {
    const run = await runImport(oursDir, env, [originalDir])
    expect(run.code).toBe(0)
    const out = run.stdout
    expect(out).toContain(kind === 'postgres' ? 'into PostgreSQL (DATABASE_URL) …' : `into ${config.databasePath} …`)
    expect(out).toContain('users:    7 imported, 5 of them renamed')
    expect(out).toContain('"ALICE" → ALICE_2') // alice had it first: a case clash
    expect(out).toContain('"José García" → Jose_Garcia')
    expect(out).toContain(`"张伟" → user${ids.zhang}`)
    expect(out).toContain('"admin" → admin_2') // our Admin was here first
    expect(out).toContain(`"${'a'.repeat(50)}" → ${'a'.repeat(32)}`)
    expect(out).toContain('rooms:    3 created, 3 merged into ours ("General", "Development", "Support"), 2 renamed')
    expect(out).toContain('"development" → "development (2)"')
    expect(out).toContain('"Evil\\u202eroom" → "Evilroom"')
    expect(out).toContain('messages: 10 imported')
    expect(out).toContain('files:    3 imported, 1 missing, 2 refused')
    expect(out).toMatch(/missing: "\/media\/room_1\/[0-9a-f]{32}\.png" \(message 6\)/)
    expect(out).toMatch(/refused: "\/media\/room_1\/[0-9a-f]{32}\.png" \(message 7\): HTML, SVG, XML/)
    expect(out).toMatch(/refused: "\/media\/room_4\/[0-9a-f]{32}\.txt" \(message 10\): not a plain file/)
  }, 60_000)

  it('runs a second time without importing anything twice', async () => {
    const before = await target.snapshot()
    const files = readdirSync(config.mediaDir)
    const run = await runImport(oursDir, env, [originalDir])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('users:    0 imported, 0 of them renamed, 7 imported before')
    expect(run.stdout).toContain('messages: 0 imported, 10 imported before')
    expect(await target.snapshot()).toEqual(before)
    expect(readdirSync(config.mediaDir)).toEqual(files)
  }, 60_000)

  describe('the result, through the real app', () => {
    let app: Awaited<ReturnType<typeof buildApp>>
    beforeAll(async () => { app = await buildApp(config, { logger: false }) })
    afterAll(async () => { await app.close() })

    const login = async (username: string, password: string) =>
      app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } })

    it('lets imported users log in with their old passwords, under their new names', async () => {
      for (const [name, id] of [['alice', ids.alice], ['ALICE_2', ids.Alice], ['Jose_Garcia', ids.jose], [`user${ids.zhang}`, ids.zhang], ['admin_2', ids.admin], ['a'.repeat(32), ids.long], ['carol', ids.cost12]] as const) {
        const res = await login(name, original.passwords.get(id!)!)
        expect(res.statusCode, name).toBe(200)
      }
      expect((await login('alice', 'not her password')).statusCode).toBe(401)
      // Our own Admin is untouched: their password, not the original admin's.
      expect((await login('Admin', 'our own admin pw')).json().user.id).toBe(adminOurs.id)
      expect((await login('Admin', 'the old admin pw')).statusCode).toBe(401)
      expect(await selectColumn(config, "SELECT password_hash FROM users WHERE username = 'carol'")).toEqual([expect.stringMatching(/^\$2b\$12\$/)])
    })

    it('keeps authors, order, times and text; uploads become attachments made safe like new uploads', async () => {
      const { token } = (await login('alice', 'alice password 1')).json<{ token: string }>()
      const history = await app.inject({ method: 'GET', url: '/api/rooms/1/messages?limit=50', headers: bearer(token) })
      const messages = history.json<{ messages: any[] }>().messages
      expect(messages.map((m) => [m.author.username, m.body])).toEqual([
        ['Admin', 'before the import'],
        ['alice', 'Hello from the old app 👋'],
        ['Jose_Garcia', '¡Hola! naïve café'],
        ['alice', ''],
        ['ALICE_2', 'Image: gone.png'],
        ['ALICE_2', 'Image: cute.png']
      ])
      expect(messages[1].createdAt).toBe('2024-01-02T03:04:05.678Z') // naive UTC, microseconds cut to milliseconds
      expect(messages[2].createdAt).toMatch(/^2025-06-01T10:00:\d\d\.000Z$/)
      const image = messages[3].attachment
      expect(image).toMatchObject({ name: 'holiday photo.jpg', mime: 'image/jpeg', kind: 'image' })
      expect(image.thumbnailUrl).toMatch(/^\/media\/[0-9a-f]{32}\.webp$/)
      const served = await app.inject({ method: 'GET', url: image.url, headers: bearer(token) })
      expect(served.statusCode).toBe(200)
      const meta = await sharp(served.rawPayload).metadata()
      expect(meta.exif).toBeUndefined() // the GPS position is gone
      expect(messages[4].attachment).toBeNull()
      expect(messages[5].attachment).toBeNull()

      const rooms = (await app.inject({ method: 'GET', url: '/api/rooms', headers: bearer(token) })).json<{ rooms: any[] }>().rooms
      expect(rooms.map((r) => r.name)).toEqual(['Development', 'development (2)', 'Evilroom', 'General', 'Random', 'Support'])
      // The unread counters were kept with each insert: everything in General but alice's own two.
      expect(rooms.find((r) => r.name === 'General').unreadCount).toBe(4)
      const random = rooms.find((r) => r.name === 'Random')
      expect(random.topic).toBe('Anything goes')
      const clip = (await app.inject({ method: 'GET', url: `/api/rooms/${random.id}/messages`, headers: bearer(token) })).json<{ messages: any[] }>().messages
      expect(clip.map((m) => [m.author.username, m.body, m.attachment?.kind, m.attachment?.name])).toEqual([
        [`user${ids.zhang}`, '', 'video', 'clip.mp4'],
        [`user${ids.zhang}`, 'File: notes.txt', undefined, undefined]
      ])
      const dev = (await app.inject({ method: 'GET', url: '/api/rooms/2/messages', headers: bearer(token) })).json<{ messages: any[] }>().messages
      expect(dev.map((m) => [m.author.username, m.attachment?.mime, m.attachment?.name])).toEqual([['admin_2', 'application/pdf', 'report.pdf']])
    })
  })
})

describe.each(STORES)('npm run import into %s, larger and odd inputs', (kind) => {
  it('imports a few thousand messages across batches in order, with the key from the original\'s .env', async () => {
    const dir = tempDir('secure-chat-import-')
    const target = await openTarget(kind, join(dir, 'ours'))
    try {
      const original = new OriginalApp(join(dir, 'old'), { keyIn: 'env' })
      const users = [original.addUser({ username: 'u one', password: 'password one' }), original.addUser({ username: 'u-two', password: 'password two' })]
      original.addTextMessages(3000, [1, 2], users)
      original.close()
      const { config } = target
      const run = await runImport(dir, { ...target.env, ENCRYPTION_KEY: config.encryptionKeys[0]! }, [join(dir, 'old')])
      expect(run.stderr).toMatch(/^(?:[\d,]+\/3,000 messages · [\d,]+\/s.*\n)*3,000\/3,000 messages · [\d,]+\/s\n$/)
      expect(run.stdout).toContain('messages: 3000 imported')
      const ring = new Fernet(config.encryptionKeys[0]!)
      const rooms = await selectColumn(config, 'SELECT room_id FROM messages ORDER BY id')
      const bodies = await selectColumn(config, 'SELECT body FROM messages ORDER BY id') as string[]
      expect(rooms).toHaveLength(3000)
      expect(rooms.every((room, i) => room === [1, 2][i % 2] && ring.decrypt(bodies[i]!).toString() === `message ${i} ✓`)).toBe(true)
      expect((await selectColumn(config, 'SELECT message_count FROM rooms WHERE id IN (1, 2) ORDER BY id')).map(Number)).toEqual([1500, 1500])
      // Each room's seq runs 1, 2, 3… in the original's order, and its counter says where it stands.
      const seqs = (await selectColumn(config, 'SELECT seq FROM messages WHERE room_id = 2 ORDER BY id')).map(Number)
      expect(seqs).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1))
      expect((await selectColumn(config, 'SELECT last_seq FROM rooms WHERE id = 2')).map(Number)).toEqual([1500])
    } finally {
      await target.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)

  it('refuses a folder without the original\'s database, or without a key, in one line', async () => {
    const dir = tempDir('secure-chat-import-')
    const target = await openTarget(kind, join(dir, 'ours'))
    try {
      const none = await runImport(dir, target.env, [join(dir, 'nowhere')])
      expect(none.code).toBe(1)
      expect(none.stderr).toBe(`No database at ${join(dir, 'nowhere', 'chat.db')}: give the original app's folder (the one with chat.db), or --db <file>.\n`)
      const original = new OriginalApp(join(dir, 'old'), { keyIn: 'none' })
      original.close()
      const keyless = await runImport(dir, target.env, [join(dir, 'old')])
      expect(keyless.code).toBe(1)
      expect(keyless.stderr).toMatch(/^No key for the original's messages: .*--key-file <file>\.\n$/)
      expect(await target.tables()).toEqual([])
    } finally {
      await target.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
