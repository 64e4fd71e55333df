// Another program (a backup tool, a `sqlite3` shell in BEGIN IMMEDIATE) holding the database's
// write lock: the server keeps answering reads, waits for the lock without blocking its event loop,
// commits once the lock is gone (acked then, nothing lost), and refuses with 503 + Retry-After,
// never an ack and never a 500, what it could not commit within DATABASE_LOCK_WAIT_SECONDS.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { bearer, registerUser } from '../helper.js'
import { connect, listeningApp, type Frame, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3')

/** A separate process that takes the write lock and keeps it until release() (or 30 s). */
interface Locker { child: ChildProcess, release: () => Promise<void> }

async function holdWriteLock (path: string): Promise<Locker> {
  const child = spawn(process.execPath, ['-e', `
    const Database = require(${JSON.stringify(betterSqlite)})
    const db = new Database(process.argv[1])
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    const release = () => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); process.exit(0) }
    process.stdin.once('data', release)
    setTimeout(release, 30000)
  `, path], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const seen = (word: string): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => { if (out.includes(word)) resolve() }
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); check() })
    child.once('exit', () => (out.includes(word) ? resolve() : reject(new Error(`the locker exited before "${word}": ${out}`))))
    check()
  })
  await seen('locked')
  return {
    child,
    release: async () => {
      child.stdin!.write('go\n')
      await seen('released')
    }
  }
}

let t: ListeningApp | undefined
const lockers: Locker[] = []
const sockets: TestSocket[] = []
afterEach(async () => {
  for (const l of lockers.splice(0)) if (l.child.exitCode === null) l.child.kill()
  await Promise.all(sockets.splice(0).map(async (s) => s.close()))
  await t?.close()
  t = undefined
})

async function setUp (env: Record<string, string>) {
  // SQLite's own file lock: on SQLite also when the suites run on PostgreSQL (npm run test:pg).
  t = await listeningApp({ DATABASE_URL: 'chat.db', ...env })
  const alice = await registerUser(t.app)
  const ws = await connect(t.base, alice.token)
  sockets.push(ws)
  await ws.request({ type: 'join', roomId: 1 }, 'joined')
  return { app: t.app, alice, ws, path: t.config.databasePath }
}

const bodies = async (app: ListeningApp['app'], token: string): Promise<string[]> => {
  const res = await app.inject({ method: 'GET', url: '/api/rooms/1/messages?limit=100', headers: bearer(token) })
  return res.json<{ messages: Array<{ body: string }> }>().messages.map((m) => m.body)
}

describe('a database locked by another program', () => {
  it('keeps reads answering while sends wait for the lock, then commits and acks them: nothing lost', async () => {
    const { app, alice, ws, path } = await setUp({ DATABASE_LOCK_WAIT_SECONDS: '30' })
    const locker = await holdWriteLock(path)
    lockers.push(locker)

    let restSettled = false
    const rest = app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'by REST', clientId: 'r-1' } })
      .finally(() => { restSettled = true })
    const from = ws.frames.length
    ws.send({ type: 'message', roomId: 1, body: 'by socket', clientId: 'w-1' })
    await ws.sync() // the server has read the frame: both sends are queued and have met the lock

    // Reads answer while the sends are still waiting on the lock that is still held.
    const health = await app.inject({ method: 'GET', url: '/api/health' })
    expect(health.statusCode).toBe(200)
    const history = await app.inject({ method: 'GET', url: '/api/rooms/1/messages', headers: bearer(alice.token) })
    expect(history.statusCode).toBe(200)
    expect(restSettled).toBe(false)
    expect(ws.frames.slice(from).filter((f) => f.type === 'ack' || f.type === 'error')).toEqual([])
    expect(locker.child.exitCode).toBe(null)

    await locker.release()
    const sent = await rest
    expect(sent.statusCode).toBe(201)
    const ack = await ws.waitFor((f: Frame) => f.type === 'ack' && f.clientId === 'w-1', { from, what: 'the ack' })
    expect(ack.message.body).toBe('by socket')
    expect(await bodies(app, alice.token)).toEqual(['by REST', 'by socket'])
  })

  it('changes to sent messages wait for the lock as sends do, then commit; past the wait they are refused with 503, nothing changed', async () => {
    const { app, alice, ws, path } = await setUp({ DATABASE_LOCK_WAIT_SECONDS: '30' })
    const m = (await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'react to me' } })).json().message
    const locker = await holdWriteLock(path)
    lockers.push(locker)
    let settled = false
    const from = ws.frames.length
    const reaction = app.inject({ method: 'PUT', url: `/api/rooms/1/messages/${m.id}/reactions/${encodeURIComponent('👍')}`, headers: bearer(alice.token) })
      .finally(() => { settled = true })
    expect((await app.inject({ method: 'GET', url: `/api/rooms/1/messages/${m.id}/edits`, headers: bearer(alice.token) })).statusCode).toBe(200)
    expect(settled).toBe(false)
    await locker.release()
    const res = await reaction
    expect(res.statusCode).toBe(200)
    expect(res.json().message.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [alice.id] }])
    expect((await ws.waitFor((f: Frame) => f.type === 'message_updated', { from, what: 'the change' })).message.seq).toBe(m.seq + 1)

    const quick = await listeningApp({ DATABASE_URL: 'chat.db', DATABASE_LOCK_WAIT_SECONDS: '0.3' })
    try {
      const bob = await registerUser(quick.app)
      const mine = (await quick.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(bob.token), payload: { body: 'as it was' } })).json().message
      const held = await holdWriteLock(quick.config.databasePath)
      lockers.push(held)
      const edit = await quick.app.inject({ method: 'PATCH', url: `/api/rooms/1/messages/${mine.id}`, headers: bearer(bob.token), payload: { body: 'too late' } })
      expect([edit.statusCode, edit.json().error.code]).toEqual([503, 'unavailable'])
      expect(Number(edit.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      await held.release()
      const now = (await quick.app.inject({ method: 'GET', url: '/api/rooms/1/messages', headers: bearer(bob.token) })).json().messages
      expect(now.map((x: { body: string, seq: number }) => [x.body, x.seq])).toEqual([['as it was', mine.seq]])
    } finally {
      await quick.close()
    }
  })

  it('refuses what cannot commit in time with 503 + Retry-After (no ack, nothing stored), and other writes too; reads go on', async () => {
    const { app, alice, ws, path } = await setUp({ DATABASE_LOCK_WAIT_SECONDS: '0.3' })
    const locker = await holdWriteLock(path)
    lockers.push(locker)

    const from = ws.frames.length
    ws.send({ type: 'message', roomId: 1, body: 'by socket', clientId: 'w-2' })
    const rest = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'by REST', clientId: 'r-2' } })
    expect(rest.statusCode).toBe(503)
    expect(rest.json().error.code).toBe('unavailable')
    expect(Number(rest.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    const refusal = await ws.waitFor((f: Frame) => f.type === 'error' && f.clientId === 'w-2', { from, what: 'the refusal' })
    expect(refusal.code).toBe('unavailable')

    // Every other write answers the same way instead of blocking or failing with a 500.
    const register = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'bob_locked', password: 'correct horse battery' } })
    expect([register.statusCode, register.json().error.code]).toEqual([503, 'unavailable'])
    expect(register.headers['retry-after']).toBeDefined()
    const room = await app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(alice.token), payload: { name: 'Locked out' } })
    expect([room.statusCode, room.json().error.code]).toEqual([503, 'unavailable'])
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(alice.token) })
    expect(logout.statusCode).toBe(503)
    const readFrom = ws.frames.length
    ws.send({ type: 'read', roomId: 1, messageId: 1 })
    expect((await ws.waitFor((f: Frame) => f.type === 'error', { from: readFrom, what: 'the read refusal' })).code).toBe('unavailable')
    expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200)
    expect(locker.child.exitCode).toBe(null) // all of that while the lock was held

    await locker.release()
    // Nothing refused was stored, or acked late; the next send goes through.
    const after = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(alice.token), payload: { body: 'after', clientId: 'r-3' } })
    expect(after.statusCode).toBe(201)
    await ws.sync()
    expect(ws.of('ack')).toEqual([])
    expect(await bodies(app, alice.token)).toEqual(['after'])
    expect((await app.inject({ method: 'GET', url: '/api/me', headers: bearer(alice.token) })).statusCode).toBe(200) // the logout did not happen
  })
})
