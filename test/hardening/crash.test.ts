// Crash safety: several sockets stream messages into the real server process, which is killed
// with SIGKILL at a random moment. After a restart every acknowledged message is in the history,
// in order, once; the database passes integrity_check; and resending the unacknowledged ones with
// the same clientId stores each exactly once.
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Fernet } from '../../src/crypto/fernet.js'
import { tempDir } from '../helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'
import { openSocket, type Sock } from './support.js'

interface Sent { clientId: string, seq: number }
interface Stored { id: number, author: { id: number, username: string }, clientId: string | null, body: string }

async function api<T> (base: string, path: string, init: { method?: string, token?: string, body?: unknown } = {}): Promise<{ status: number, json: T }> {
  const request = () => fetch(base + path, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body)
  })
  // A pooled keep-alive connection can be closed by the server (keepAliveTimeout) just as a busy
  // test process reuses it: retry a read once on a fresh one.
  const res = await request().catch(async (error: unknown) => {
    if ((init.method ?? 'GET') !== 'GET') throw error
    return request()
  })
  return { status: res.status, json: await res.json() as T }
}

async function history (base: string, token: string): Promise<Stored[]> {
  // Newest page first, then older pages (`before=`), each oldest first.
  let all: Stored[] = []
  for (let query = ''; ;) {
    const { status, json } = await api<{ messages: Stored[], hasMore: boolean }>(base, `/api/rooms/1/messages?limit=100${query}`, { token })
    if (status !== 200) throw new Error(`history: ${status} ${JSON.stringify(json)}`)
    all = [...json.messages, ...all]
    if (!json.hasMore || json.messages.length === 0) return all
    query = `&before=${json.messages[0]!.id}`
  }
}

async function joinedSocket (base: string, token: string): Promise<Sock> {
  const sock = await openSocket(base, token)
  await sock.opened
  await sock.wait((f) => f.type === 'ready')
  const joined = await sock.ask({ type: 'join', roomId: 1 }, 'joined', 'error')
  if (joined.type !== 'joined') throw new Error(JSON.stringify(joined))
  return sock
}

/** Streams messages (up to `window` unacknowledged at a time) until the socket dies. */
function stream (sock: Sock, name: string, sent: Sent[], acked: Map<string, number>, window = 16): Promise<void> {
  return new Promise((resolve) => {
    let seq = 0
    let inFlight = 0
    const pump = (): void => {
      while (inFlight < window && sock.ws.readyState === 1) {
        const clientId = `${name}-${seq}`
        sent.push({ clientId, seq })
        sock.send({ type: 'message', roomId: 1, body: `message ${seq} from ${name}`, clientId })
        seq++
        inFlight++
      }
    }
    sock.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string, clientId?: string, message?: { id: number } }
      if (frame.type === 'ack' && frame.clientId?.startsWith(`${name}-`) === true) {
        acked.set(frame.clientId, frame.message!.id)
        inFlight--
        pump()
      }
    })
    sock.ws.once('close', () => resolve())
    pump()
  })
}

describe('crash safety (SIGKILL mid-stream)', () => {
  it('every acked message survives, in order, once; integrity ok; resends do not duplicate', async () => {
    const cwd = tempDir()
    const env = { SECRET_KEY: 'crash-test-secret-that-is-long-enough-123', ENCRYPTION_KEY: Fernet.generateKey(), MESSAGES_PER_SECOND: '0' }
    let server: ServerProcess = await startServer(cwd, env)
    try {
      const users = await Promise.all(['ann', 'ben', 'cat'].map(async (name) => {
        const { json } = await api<{ token: string, user: { id: number } }>(server.url, '/api/auth/register', { method: 'POST', body: { username: `crash_${name}`, password: 'password123' } })
        return { name, token: json.token, id: json.user.id, sent: [] as Sent[], acked: new Map<string, number>() }
      }))
      const sockets = await Promise.all(users.map(async (u) => joinedSocket(server.url, u.token)))
      const streams = users.map(async (u, i) => stream(sockets[i]!, u.name, u.sent, u.acked))

      // Kill at a random moment once acks are flowing.
      const until = Date.now() + 5000
      while (users.some((u) => u.acked.size < 20) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400))
      expect(await server.stop('SIGKILL')).toBe('SIGKILL')
      await Promise.all(streams)
      const totalAcked = users.reduce((n, u) => n + u.acked.size, 0)
      expect(totalAcked).toBeGreaterThan(60)

      server = await startServer(cwd, env)
      const db = new Database(join(cwd, 'chat.db'), { readonly: true })
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      } finally {
        db.close()
      }

      const after = await history(server.url, users[0]!.token)
      const ids = after.map((m) => m.id)
      expect(ids).toEqual([...ids].sort((a, b) => a - b)) // oldest first, strictly increasing
      expect(new Set(ids).size).toBe(ids.length)
      for (const u of users) {
        const mine = after.filter((m) => m.author.id === u.id)
        const clientIds = mine.map((m) => m.clientId!)
        expect(new Set(clientIds).size).toBe(clientIds.length) // no duplicates
        for (const [clientId, id] of u.acked) expect(mine.find((m) => m.clientId === clientId)?.id, clientId).toBe(id)
        // In the order they were sent, and with no hole before the last stored one.
        const seqs = clientIds.map((c) => Number(c.split('-')[1]))
        expect(seqs).toEqual(seqs.map((_, i) => i))
        for (const m of mine) expect(m.body).toBe(`message ${m.clientId!.split('-')[1]} from ${u.name}`)
      }

      // The clients resend everything not acknowledged (and, for good measure, all the rest).
      const again = await Promise.all(users.map(async (u) => joinedSocket(server.url, u.token)))
      await Promise.all(users.map(async (u, i) => {
        const sock = again[i]!
        // Acks are counted as they come (thousands of frames: no rescans of the whole list).
        const wanted = new Set(u.sent.map((s) => s.clientId))
        const ackedNow = new Map<string, number>()
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${u.name}: ${wanted.size} of ${u.sent.length} resends never acked`)), 30_000)
          sock.ws.on('message', (data) => {
            const f = JSON.parse(String(data)) as { type: string, clientId?: string, message?: { id: number } }
            if (f.type !== 'ack') return
            ackedNow.set(f.clientId!, f.message!.id)
            wanted.delete(f.clientId!)
            if (wanted.size === 0) {
              clearTimeout(timer)
              resolve()
            }
          })
          sock.ws.once('close', (code) => reject(new Error(`${u.name}: socket closed (${code}) with ${wanted.size} resends unacked`)))
          for (const { clientId, seq } of u.sent) sock.send({ type: 'message', roomId: 1, body: `message ${seq} from ${u.name}`, clientId })
        })
        for (const [clientId, id] of ackedNow) if (u.acked.has(clientId)) expect(id).toBe(u.acked.get(clientId))
        sock.ws.close()
      }))
      const final = await history(server.url, users[0]!.token)
      for (const u of users) {
        const clientIds = final.filter((m) => m.author.id === u.id).map((m) => m.clientId)
        expect(clientIds.length).toBe(u.sent.length)
        expect(new Set(clientIds).size).toBe(u.sent.length)
      }
    } catch (error) {
      throw new Error(`${String(error)}\nserver output:\n${server.output().slice(-3000)}`, { cause: error })
    } finally {
      await server.stop('SIGKILL')
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 60_000)
})
