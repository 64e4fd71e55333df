// A full disk for real: the database and MEDIA_DIR on a 2 MiB tmpfs, filled up by another file.
// SQLite then reports SQLITE_FULL, and every write path answers 507 insufficient_storage (REST
// and socket frames alike), the health route says so, and all is well again once space is freed.
// Mounting needs root (as in CI): if it fails, this test fails and says why; it never skips.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, registerUser, tempDir } from '../helper.js'
import { connect, listeningApp, type Frame, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'

const mountPoint = join(tempDir('secure-chat-full-'), 'disk')
let mounted = false
let t: ListeningApp
let ws: TestSocket
let alice: Awaited<ReturnType<typeof registerUser>>
const filler = join(mountPoint, 'filler')

/** Writes until the file system refuses (ENOSPC): the disk is then full for everyone. */
function fillUp (): void {
  const fd = openSync(filler, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
    const small = Buffer.alloc(512, 1) // the last partial blocks too
    try { for (;;) writeSync(fd, small) } catch {}
  } finally {
    closeSync(fd)
  }
}

beforeAll(async () => {
  mkdirSync(mountPoint, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' })
  } catch (error) {
    throw new Error(`This test needs a small tmpfs (run as root, as CI does): mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`)
  }
  mounted = true
  t = await listeningApp({ DATABASE_URL: join(mountPoint, 'chat.db'), MEDIA_DIR: join(mountPoint, 'media') })
  alice = await registerUser(t.app)
  ws = await connect(t.base, alice.token)
  await ws.request({ type: 'join', roomId: 1 }, 'joined')
})

afterAll(async () => {
  rmSync(filler, { force: true })
  await ws?.close()
  await t?.close()
  if (mounted) execFileSync('umount', [mountPoint])
})

describe('a full disk', () => {
  it('answers 507 insufficient_storage on every write path and in health, and recovers once space is freed', async () => {
    const { app } = t
    expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200)
    fillUp()

    const rest = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'no room for me', clientId: 'r-1' } })
    expect([rest.statusCode, rest.json().error.code]).toEqual([507, 'insufficient_storage'])
    const from = ws.frames.length
    ws.send({ type: 'message', roomId: 1, body: 'nor for me', clientId: 'w-1' })
    const refusal = await ws.waitFor((f: Frame) => f.type === 'error' && f.clientId === 'w-1', { from, what: 'the refusal' })
    expect(refusal.code).toBe('insufficient_storage')
    ws.send({ type: 'read', roomId: 1, messageId: 1 })
    // Reads still work: history, and the room list.
    expect((await app.inject({ method: 'GET', url: '/api/rooms', headers: bearer(alice.token) })).statusCode).toBe(200)

    const register = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'bob_full', password: 'correct horse battery' } })
    expect([register.statusCode, register.json().error.code]).toEqual([507, 'insufficient_storage'])
    const room = await app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(alice.token), payload: { name: 'No space' } })
    expect([room.statusCode, room.json().error.code]).toEqual([507, 'insufficient_storage'])
    const health = await app.inject({ method: 'GET', url: '/api/health' })
    expect([health.statusCode, health.json().error.code]).toEqual([507, 'insufficient_storage'])
    await ws.sync()
    expect(ws.of('ack')).toEqual([])
    expect(ws.of('error', (f) => f.clientId === undefined).map((f) => f.code)).toEqual(['insufficient_storage']) // the read marker

    rmSync(filler)
    const again = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'room again', clientId: 'r-2' } })
    expect(again.statusCode).toBe(201)
    expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200)
    const history = await app.inject({ method: 'GET', url: '/api/rooms/1/messages', headers: bearer(alice.token) })
    expect(history.json().messages.map((m: { body: string }) => m.body)).toEqual(['room again'])
  })
})
