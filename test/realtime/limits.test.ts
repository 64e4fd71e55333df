// The hub's limits, each from its setting: frame size, send rate, sockets per user and in all,
// slow consumers, heartbeats and tokens that expire while connected.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { bearer, registerUser } from '../helper.js'
import { connect, listeningApp, refused, settle, signJwt, type ListeningApp, type TestSocket } from './ws-client.js'

let t: ListeningApp | undefined
const sockets: TestSocket[] = []
async function open (token: string, options?: Parameters<typeof connect>[2]): Promise<TestSocket> {
  const socket = await connect(t!.base, token, options)
  sockets.push(socket)
  return socket
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate()
  await t?.close()
  t = undefined
})

const GENERAL = 1

describe('limits', () => {
  it('MAX_FRAME_BYTES: a frame up to it is read, one byte more closes with 1009', async () => {
    t = await listeningApp({ MAX_FRAME_BYTES: '4096' })
    const alice = await registerUser(t.app)
    const a = await open(alice.token)
    await a.request({ type: 'join', roomId: GENERAL }, 'joined')
    const frame = (size: number): string => {
      const shell = JSON.stringify({ type: 'message', roomId: GENERAL, body: '', clientId: 'big' })
      return shell.replace('"body":""', `"body":"${'x'.repeat(size - shell.length)}"`)
    }
    expect(Buffer.byteLength(frame(4096))).toBe(4096)
    a.send(frame(4096)) // 4000+ characters: a schema error, not a close
    expect(await a.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'validation_failed', clientId: 'big' })
    a.send(frame(4097))
    expect((await a.closed).code).toBe(1009)
  })

  it('MESSAGES_PER_SECOND: beyond the burst, rate_limited with the clientId; the socket stays usable; REST shares the budget', async () => {
    t = await listeningApp({ MESSAGES_PER_SECOND: '2' }) // bursts of 6
    const alice = await registerUser(t.app)
    const a = await open(alice.token)
    await a.request({ type: 'join', roomId: GENERAL }, 'joined')
    for (let i = 0; i < 8; i++) a.send({ type: 'message', roomId: GENERAL, body: `m${i}`, clientId: `m${i}` })
    const error = await a.waitFor((f) => f.type === 'error')
    expect(error).toMatchObject({ code: 'rate_limited', clientId: expect.stringMatching(/^m[67]$/) })
    await a.waitFor(() => a.of('ack').length + a.of('error').length === 8)
    expect(a.of('ack')).toHaveLength(6)
    const rest = await t.app.inject({ method: 'POST', url: `/api/rooms/${GENERAL}/messages`, headers: bearer(alice.token), payload: { body: 'rest' } })
    expect(rest.statusCode).toBe(429)
    await a.sync()
    expect(a.ws.readyState).toBe(a.ws.OPEN)
    // The bucket refills (one token per 500 ms): the same socket sends again.
    let outcome = 'error'
    for (let i = 0; i < 12 && outcome === 'error'; i++) {
      const clientId = `later-${i}`
      a.send({ type: 'message', roomId: GENERAL, body: 'later', clientId })
      outcome = (await a.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId)).type
      if (outcome === 'error') await settle(150)
    }
    expect(outcome).toBe('ack')
  })

  it('MAX_SOCKETS_PER_USER refuses the next upgrade with 429; MAX_SOCKETS with 503', async () => {
    t = await listeningApp({ MAX_SOCKETS_PER_USER: '2', MAX_SOCKETS: '3' })
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const a1 = await open(alice.token)
    await open(alice.token)
    const third = await refused(t.base, alice.token)
    expect(third.status).toBe(429)
    expect(third.body.error.code).toBe('too_many_sockets')
    await open(bob.token) // another user is not affected
    const full = await refused(t.base, bob.token)
    expect(full.status).toBe(503)
    expect(full.body.error.code).toBe('unavailable')
    await a1.close()
    await vi.waitFor(() => expect(t!.app.hub.socketsOf(alice.id)).toBe(1), { timeout: 2000, interval: 20 })
    await open(alice.token) // a freed slot is usable again
  })

  it('MAX_SOCKET_BUFFER_BYTES: a client that stops reading is closed with 1013; the others keep up', async () => {
    t = await listeningApp({ MAX_SOCKET_BUFFER_BYTES: String(256 * 1024) })
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const slow = await open(alice.token)
    const fine = await open(bob.token)
    await Promise.all([slow.request({ type: 'join', roomId: GENERAL }, 'joined'), fine.request({ type: 'join', roomId: GENERAL }, 'joined')])
    const socket = (slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
    socket.pause()

    // A flood in the room, straight through the event bus the hub listens to (no database work):
    // 64 KiB per turn, so a reading client never falls behind by more than that.
    const message: Message = { id: 1, roomId: GENERAL, author: { id: bob.id, username: bob.username }, body: 'x'.repeat(8000), attachment: null, clientId: null, createdAt: new Date().toISOString(), seq: 1, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null }
    let sent = 0
    for (let turn = 0; turn < 2000 && t.app.hub.socketsOf(alice.id) > 0; turn++) {
      for (let i = 0; i < 8; i++) t.app.events.emit('message', { ...message, id: ++sent })
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(t.app.hub.socketsOf(alice.id)).toBe(0)
    expect(t.app.hub.socketsOf(bob.id)).toBe(1)
    socket.resume()
    expect((await slow.closed).code).toBe(1013)
    await fine.waitFor((f) => f.type === 'message' && f.message.id === sent, { timeoutMs: 10_000 })
    await fine.sync()
  })

  it('HEARTBEAT_SECONDS: a client that does not answer pings is terminated; one that does stays', async () => {
    t = await listeningApp({ HEARTBEAT_SECONDS: '0.2' })
    const alice = await registerUser(t.app)
    const silent = await open(alice.token, { autoPong: false })
    const alive = await open(alice.token)
    const started = Date.now()
    expect((await silent.closed).code).toBe(1006) // terminated: no close frame
    expect(Date.now() - started).toBeLessThan(2000)
    await vi.waitFor(() => expect(t!.app.hub.socketsOf(alice.id)).toBe(1), { timeout: 1000, interval: 20 })
    await alive.sync()
  })

  it('a token that expires while its socket is open gets the socket closed with 4001', async () => {
    t = await listeningApp({ HEARTBEAT_SECONDS: '0.2' })
    const alice = await registerUser(t.app)
    const exp = Math.floor(Date.now() / 1000) + 2
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: String(alice.id), jti: randomBytes(8).toString('hex'), exp }, t.config.secretKey)
    const a = await open(token)
    const other = await open(alice.token)
    const { code } = await a.closed
    expect(code).toBe(4001)
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000)
    await other.sync()
  })

  it('shutdown: what is committed while closing is broadcast as well as acked', async () => {
    t = await listeningApp()
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const a = await open(alice.token)
    const b = await open(bob.token)
    await a.request({ type: 'join', roomId: GENERAL }, 'joined')
    await b.request({ type: 'join', roomId: GENERAL }, 'joined')
    const from = { a: a.frames.length, b: b.frames.length }
    for (let i = 0; i < 50; i++) a.send({ type: 'message', roomId: GENERAL, body: `m${i}`, clientId: `c${i}` })
    await a.waitFor((f) => f.type === 'ack', { from: from.a }) // the server is mid-stream
    await t.app.close()
    await Promise.all([a.closed, b.closed])
    const acked = a.frames.slice(from.a).filter((f) => f.type === 'ack').map((f) => f.message.id as number)
    const seen = (s: TestSocket, start: number) => new Set(s.frames.slice(start).filter((f) => f.type === 'message').map((f) => f.message.id as number))
    expect(acked.length).toBeGreaterThan(0)
    const toSender = seen(a, from.a)
    const toOther = seen(b, from.b)
    for (const id of acked) {
      expect(toSender.has(id), `message ${id} to its sender`).toBe(true)
      expect(toOther.has(id), `message ${id} to the room`).toBe(true)
    }
  })

  it('frames other than messages are rate limited per socket; a client that keeps on is closed with 1008', async () => {
    t = await listeningApp()
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const a = await open(alice.token)
    const b = await open(bob.token)
    await a.request({ type: 'join', roomId: GENERAL }, 'joined')
    await b.request({ type: 'join', roomId: GENERAL }, 'joined')
    for (let i = 0; i < 300; i++) {
      a.send({ type: 'typing', roomId: GENERAL, isTyping: true })
      a.send({ type: 'typing', roomId: GENERAL, isTyping: false })
    }
    for (let i = 0; i < 200; i++) a.send({ type: 'leave', roomId: 2 })
    const { code } = await a.closed
    expect(code).toBe(1008)
    expect(a.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited').length).toBeGreaterThan(0)
    await b.request({ type: 'ping' }, 'pong')
    expect(b.frames.filter((f) => f.type === 'typing').length).toBeLessThanOrEqual(2)
  })
})
