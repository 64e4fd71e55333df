// The hostile-input suite, WebSocket half: bad frames get an error frame and leave the socket
// usable; frames the protocol cannot carry close it (1007 bad UTF-8, 1009 too large); refused
// upgrades (forged tokens, foreign Origin, too many sockets) get HTTP errors. Each time: no crash,
// health OK, stored data unchanged, no prototype polluted.
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { catalogue } from '../../src/errors.js'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { openSocket, snapshot, type Sock } from './support.js'

let t: TestApp
let base: string
let token: string
let sock: Sock

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

beforeAll(async () => {
  t = await buildTestApp({ MAX_FRAME_BYTES: '8192', MAX_SOCKETS_PER_USER: '3', MAX_SOCKETS: '6' })
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
  token = (await registerUser(t.app, 'wsalice', 'password123')).token
  sock = await openSocket(base, token)
  await sock.opened
  await sock.wait((f) => f.type === 'ready')
  expect((await sock.ask({ type: 'join', roomId: 1 }, 'joined', 'error')).type).toBe('joined')
  expect((await sock.ask({ type: 'message', roomId: 1, body: 'before', clientId: 'c0' }, 'ack', 'error')).type).toBe('ack')
})
afterAll(async () => {
  sock?.ws.close()
  await t.close()
})

// [name, frame as sent, error codes accepted]
const badFrames: Array<[string, string | Buffer, string[]]> = [
  ['not JSON', 'hello', ['invalid_json']],
  ['truncated JSON', '{"type":"join","roomId":', ['invalid_json']],
  ['JSON null', 'null', ['validation_failed']],
  ['JSON array', '[{"type":"ping"}]', ['validation_failed']],
  ['JSON number', '42', ['validation_failed']],
  ['no type', '{"roomId":1}', ['validation_failed']],
  ['type is a number', '{"type":42}', ['validation_failed', 'unknown_type']],
  ['unknown type', '{"type":"admin","op":"drop"}', ['unknown_type']],
  ['__proto__ key', '{"__proto__":{"admin":true},"type":"ping"}', ['invalid_json', 'validation_failed']],
  ['constructor.prototype key', '{"type":"ping","constructor":{"prototype":{"admin":true}}}', ['invalid_json', 'validation_failed']],
  ['roomId as a string', '{"type":"join","roomId":"1"}', ['validation_failed']],
  ['negative roomId', '{"type":"join","roomId":-1}', ['validation_failed']],
  ['float roomId', '{"type":"join","roomId":1.5}', ['validation_failed']],
  ['roomId beyond 2^53', '{"type":"join","roomId":9007199254740993}', ['validation_failed']],
  ['roomId 1e400', '{"type":"join","roomId":1e400}', ['validation_failed']],
  ['unknown room', '{"type":"join","roomId":999999}', ['room_not_found']],
  ['message to a room not joined', '{"type":"message","roomId":2,"body":"x","clientId":"n1"}', ['not_joined']],
  ['message with a spoofed author', '{"type":"message","roomId":1,"body":"x","clientId":"s1","author":{"id":1,"username":"root"}}', ['validation_failed']],
  ['message body too long', JSON.stringify({ type: 'message', roomId: 1, body: 'x'.repeat(4001), clientId: 'l1' }), ['validation_failed']],
  ['message body only spaces', '{"type":"message","roomId":1,"body":"   ","clientId":"w1"}', ['validation_failed']],
  ['message body with NUL', '{"type":"message","roomId":1,"body":"a\\u0000b","clientId":"z1"}', ['validation_failed']],
  ['message clientId of 65 characters', JSON.stringify({ type: 'message', roomId: 1, body: 'x', clientId: 'c'.repeat(65) }), ['validation_failed']],
  ['message body is an object', '{"type":"message","roomId":1,"body":{"$gt":""},"clientId":"o1"}', ['validation_failed']],
  ['SQL-looking roomId', '{"type":"join","roomId":"1 OR 1=1"}', ['validation_failed']],
  ['typing with a string flag', '{"type":"typing","roomId":1,"isTyping":"yes"}', ['validation_failed']],
  ['read with a negative id', '{"type":"read","roomId":1,"messageId":-5}', ['validation_failed']],
  ['deeply nested (4000 levels)', '['.repeat(4000) + ']'.repeat(4000), ['validation_failed', 'invalid_json']],
  ['many keys', `{"type":"ping",${Array.from({ length: 500 }, (_, i) => `"k${i}":1`).join(',')}}`, ['validation_failed']],
  ['lone surrogate in body', '{"type":"message","roomId":1,"body":"\\ud800","clientId":"u1"}', ['validation_failed', 'ack']]
]

/** The clientId an error frame must carry: the frame's own, if it is a string of 1 to 64 characters. */
function echoedClientId (frame: string | Buffer): string | undefined {
  let clientId: unknown
  try {
    clientId = (JSON.parse(String(frame)) as { clientId?: unknown } | null)?.clientId
  } catch {}
  return typeof clientId === 'string' && clientId.length > 0 && clientId.length <= 64 ? clientId : undefined
}

describe('hostile WebSocket frames', () => {
  it.each(badFrames)('%s → error frame, socket still usable, nothing stored', async (_name, frame, codes) => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    const reply = await sock.ask(frame, 'error', 'ack', 'joined', 'pong')
    if (reply.type === 'ack') {
      // A lone surrogate may be stored as U+FFFD by some stacks; it must then be a normal message.
      expect(codes).toContain('ack')
      return
    }
    expect(reply.type).toBe('error')
    expect(codes).toContain(reply.code)
    expect(Object.hasOwn(catalogue, reply.code)).toBe(true)
    expect(reply.message).toMatch(/^[A-Z]/) // a sentence for a person, not a stack trace
    expect(reply.message).not.toMatch(/\bat .+\.(js|ts):\d+/)
    // A refused send names its clientId (when it is a usable one), so the sender's outbox can mark it failed.
    expect(reply.clientId).toBe(echoedClientId(frame))
    expect(sock.ws.readyState).toBe(WebSocket.OPEN)
    expect((await sock.ask({ type: 'ping' }, 'pong')).type).toBe('pong')
    expect(snapshot(t.config.databasePath)).toEqual(before)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('a binary frame → error frame; the socket stays', async () => {
    const from = sock.frames.length
    sock.send(Buffer.from([0, 1, 2, 3]), { binary: true })
    const reply = await sock.wait((f) => f.type === 'error', from)
    expect(reply.code).toBe('invalid_json')
    expect((await sock.ask({ type: 'ping' }, 'pong')).type).toBe('pong')
  })

  it('invalid UTF-8 in a text frame closes with 1007; the server carries on', async () => {
    const s = await openSocket(base, token)
    await s.opened
    s.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect((await s.closed).code).toBe(1007)
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200)
  })

  it('a frame over MAX_FRAME_BYTES closes with 1009, even a valid-looking one', async () => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    const s = await openSocket(base, token)
    await s.opened
    s.send(JSON.stringify({ type: 'message', roomId: 1, body: 'x'.repeat(20_000), clientId: 'big' }))
    expect((await s.closed).code).toBe(1009)
    expect(snapshot(t.config.databasePath)).toEqual(before)
  })

  it('a burst of 300 bad frames does not take the socket or the server down', async () => {
    const from = sock.frames.length
    for (let i = 0; i < 300; i++) sock.send(i % 2 === 0 ? '{' : '{"type":"nope"}')
    expect((await sock.ask({ type: 'ping' }, 'pong')).type).toBe('pong')
    expect(sock.frames.slice(from).filter((f) => f.type === 'error').length).toBe(300)
  })
})

describe('hostile upgrades', () => {
  const refused = async (token: string | null, headers: Record<string, string> = {}): Promise<number> => {
    const s = await openSocket(base, token, headers)
    return s.opened.then(async () => {
      s.ws.close()
      await s.closed
      await new Promise((resolve) => setTimeout(resolve, 20)) // the server sees the close too
      return 101
    }, (e: { status?: number }) => e.status ?? 0)
  }

  it.each([
    ['no token', null],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', jti: 'x', exp: 4102444800 })}.`],
    ["HS256 with 'secret'", 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.p2YIuOmWEZe6HSvFHRiNAq2mGm7cdD4I3XoHFSplP7U'],
    ['garbage', 'not-a-token'],
    ['10 KB token', 'a'.repeat(10_000)]
  ])('%s → 401 before the upgrade', async (_name, bad) => {
    expect(await refused(bad)).toBe(401)
  })

  it('a token in the Authorization header (the wrong place for /ws) → 401', async () => {
    expect(await refused(null, { authorization: `Bearer ${token}` })).toBe(401)
  })

  it('a foreign Origin → 403, even with a valid token; the own origin works', async () => {
    expect(await refused(token, { origin: 'http://evil.example' })).toBe(403)
    expect(await refused(token, { origin: 'null' })).toBe(403)
    expect(await refused(token, { origin: base })).toBe(101)
  })

  it('caps sockets per user (429) and in total (503)', async () => {
    // `sock` is one of wsalice's; two more fit, the fourth is refused.
    const mine = [await openSocket(base, token), await openSocket(base, token)]
    await Promise.all(mine.map((s) => s.opened))
    expect(await refused(token)).toBe(429)
    // Total cap 6: bob fills it up, then carol is refused with 503.
    const bob = (await registerUser(t.app, 'wsbob', 'password123')).token
    const carol = (await registerUser(t.app, 'wscarol', 'password123')).token
    const bobs = [await openSocket(base, bob), await openSocket(base, bob), await openSocket(base, bob)]
    await Promise.all(bobs.map((s) => s.opened))
    expect(await refused(carol)).toBe(503)
    for (const s of [...mine, ...bobs]) s.ws.close()
    await Promise.all([...mine, ...bobs].map((s) => s.closed))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await refused(carol)).toBe(101)
  })
})
