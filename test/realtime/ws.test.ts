// The WebSocket half of the contract against a listening app and real `ws` clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, registerUser, uniqueName } from '../helper.js'
import { connect, listeningApp, refused, signJwt, type Frame, type ListeningApp, type TestSocket } from './ws-client.js'

let t: ListeningApp
beforeAll(async () => { t = await listeningApp() })
afterAll(async () => t.close())

const sockets: TestSocket[] = []
async function open (token: string, options?: Parameters<typeof connect>[2]): Promise<TestSocket> {
  const socket = await connect(t.base, token, options)
  sockets.push(socket)
  return socket
}
afterAll(async () => { await Promise.all(sockets.map(async (s) => s.close())) })

async function newRoom (token: string): Promise<number> {
  const res = await t.app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(token), payload: { name: uniqueName('room') } })
  expect(res.statusCode).toBe(201)
  return res.json().room.id as number
}

async function history (token: string, roomId: number, query = ''): Promise<{ messages: Frame[], hasMore: boolean }> {
  const res = await t.app.inject({ url: `/api/rooms/${roomId}/messages${query}`, headers: bearer(token) })
  expect(res.statusCode).toBe(200)
  return res.json()
}

async function restSend (token: string, roomId: number, body: string): Promise<Frame> {
  const res = await t.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: bearer(token), payload: { body } })
  expect(res.statusCode).toBe(201)
  return res.json().message
}

const join = async (socket: TestSocket, roomId: number): Promise<Frame> => socket.request({ type: 'join', roomId }, 'joined')
const isMessage = (id: number) => (f: Frame) => f.type === 'message' && f.message.id === id

describe('chatting', () => {
  it('two users chat: ready, joined, ack after commit, and everyone gets each message exactly once', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(alice.token)
    const a = await open(alice.token)
    const b = await open(bob.token)
    expect(a.frames[0]).toMatchObject({ type: 'ready', user: { id: alice.id, username: alice.username } })
    expect(typeof a.frames[0]!.user.createdAt).toBe('string')
    expect((await join(a, roomId)).online).toEqual([{ id: alice.id, username: alice.username }])
    expect((await join(b, roomId)).online).toEqual(expect.arrayContaining([{ id: alice.id, username: alice.username }, { id: bob.id, username: bob.username }]))

    const ids: number[] = []
    for (let i = 0; i < 5; i++) {
      const clientId = `c-${i}`
      const ack = await a.request({ type: 'message', roomId, body: `hello ${i} 👋  `, clientId }, 'ack')
      expect(ack).toMatchObject({ clientId, message: { roomId, body: `hello ${i} 👋`, clientId, author: { id: alice.id, username: alice.username } } })
      // The ack means committed: history has the row the moment the ack is here.
      const { messages } = await history(bob.token, roomId)
      expect(messages.map((m) => m.id)).toContain(ack.message.id)
      ids.push(ack.message.id)
    }
    const reply = await b.request({ type: 'message', roomId, body: 'hi alice', clientId: 'b-1' }, 'ack')
    ids.push(reply.message.id)

    await Promise.all([a.waitFor(isMessage(reply.message.id)), b.waitFor(isMessage(ids[0]!))])
    await Promise.all([a.sync(), b.sync()])
    for (const socket of [a, b]) {
      expect(socket.of('message').map((f) => f.message.id)).toEqual(ids) // each once, in order
    }
    expect(a.of('ack')).toHaveLength(5)
    expect(b.of('ack')).toHaveLength(1)
  })

  it('a retried clientId gets the first message back in the ack and is not broadcast again', async () => {
    const alice = await registerUser(t.app)
    const roomId = await newRoom(alice.token)
    const a = await open(alice.token)
    await join(a, roomId)
    const first = await a.request({ type: 'message', roomId, body: 'once', clientId: 'same' }, 'ack')
    const again = await a.request({ type: 'message', roomId, body: 'once', clientId: 'same' }, 'ack')
    expect(again.message).toEqual(first.message)
    await a.sync()
    expect(a.of('message')).toHaveLength(1)
    expect((await history(alice.token, roomId)).messages).toHaveLength(1)
  })

  it('presence is per user: a second tab adds no presence, the last one leaving (or dropping) does', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(bob.token)
    const b = await open(bob.token)
    await join(b, roomId)
    const presence = (status: string) => b.of('presence', (f) => f.user.id === alice.id && f.status === status)

    const tab1 = await open(alice.token)
    const tab2 = await open(alice.token)
    const joined1 = await join(tab1, roomId)
    expect(joined1.online).toEqual(expect.arrayContaining([{ id: alice.id, username: alice.username }, { id: bob.id, username: bob.username }]))
    await b.waitFor((f) => f.type === 'presence' && f.status === 'online')
    expect(presence('online')[0]).toEqual({ type: 'presence', roomId, user: { id: alice.id, username: alice.username }, status: 'online' })
    expect((await join(tab2, roomId)).online).toHaveLength(2) // alice once, not once per tab
    expect(tab1.of('presence')).toHaveLength(0) // own first join is not announced to oneself

    await tab1.close() // clean close of one tab: alice is still online
    await b.sync()
    expect(presence('online')).toHaveLength(1)
    expect(presence('offline')).toHaveLength(0)

    tab2.send({ type: 'leave', roomId }) // the last tab leaves
    await b.waitFor((f) => f.type === 'presence' && f.status === 'offline')

    await join(tab2, roomId) // back, then the connection drops without a close handshake
    await b.waitFor(() => presence('online').length === 2, { what: 'second online' })
    tab2.ws.terminate()
    await b.waitFor(() => presence('offline').length === 2, { what: 'second offline' })
  })

  it('typing is relayed to the other users only, throttled, and ended by isTyping:false', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(bob.token)
    const [a1, a2, b] = await Promise.all([open(alice.token), open(alice.token), open(bob.token)])
    await Promise.all([join(a1, roomId), join(a2, roomId), join(b, roomId)])

    a1.send({ type: 'typing', roomId, isTyping: true })
    const relayed = await b.waitFor((f) => f.type === 'typing')
    expect(relayed).toEqual({ type: 'typing', roomId, user: { id: alice.id, username: alice.username }, isTyping: true })
    a1.send({ type: 'typing', roomId, isTyping: true }) // within the throttle window: not relayed again
    await Promise.all([a1.sync(), a2.sync(), b.sync()])
    expect(b.of('typing')).toHaveLength(1)
    expect(a1.of('typing')).toHaveLength(0)
    expect(a2.of('typing')).toHaveLength(0) // the same user's other tab is not "others"

    a2.send({ type: 'typing', roomId, isTyping: false })
    expect(await b.waitFor((f) => f.type === 'typing' && f.isTyping === false)).toMatchObject({ user: { id: alice.id } })
    // (Expiry after silence is timed in hub.test.ts with a fake clock.)
  })

  it('a message sent by REST and a room created by REST reach the sockets', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(alice.token)
    const b = await open(bob.token)
    const idle = await open(alice.token) // joined nowhere: gets rooms, not messages
    await join(b, roomId)
    const sent = await restSend(alice.token, roomId, 'from curl')
    expect((await b.waitFor(isMessage(sent.id))).message).toEqual(sent)

    const created = await t.app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(alice.token), payload: { name: uniqueName('new'), topic: 't' } })
    const { myRole, ...room } = created.json().room // the caller's own field stays out of frames
    expect(myRole).toBe('owner')
    for (const socket of [b, idle]) expect(await socket.waitFor((f) => f.type === 'room' && f.room.id === room.id)).toEqual({ type: 'room', room })
    await idle.sync()
    expect(idle.of('message')).toHaveLength(0)
  })
})

describe('errors keep the socket open', () => {
  it('answers every bad frame with the right error code', async () => {
    const alice = await registerUser(t.app)
    const roomId = await newRoom(alice.token)
    const a = await open(alice.token)
    const cases: Array<[frame: unknown, code: string, clientId?: string]> = [
      ['not json', 'invalid_json'],
      ['{"type":"join",', 'invalid_json'],
      ['{"__proto__":{"admin":true},"type":"ping"}', 'invalid_json'],
      ['{"type":"ping","constructor":{"prototype":{"x":1}}}', 'invalid_json'],
      ['[1,2]', 'validation_failed'],
      ['"ping"', 'validation_failed'],
      [{ type: 42 }, 'validation_failed'],
      [{ roomId }, 'validation_failed'],
      [{ type: 'dance' }, 'unknown_type'],
      [{ type: 'send', room: roomId, text: 'x' }, 'unknown_type'],
      [{ type: 'join', roomId: String(roomId) }, 'validation_failed'],
      [{ type: 'join', roomId: 1.5 }, 'validation_failed'],
      [{ type: 'ping', extra: true }, 'validation_failed'],
      [{ type: 'message', roomId, body: '   ', clientId: 'e1' }, 'validation_failed', 'e1'],
      [{ type: 'message', roomId, body: 'x'.repeat(4001), clientId: 'e2' }, 'validation_failed', 'e2'],
      [{ type: 'message', roomId, body: 'x', clientId: 'e3', sender: 'bob' }, 'validation_failed', 'e3'],
      [{ type: 'message', roomId, body: 'not joined yet', clientId: 'e4' }, 'not_joined', 'e4'],
      [{ type: 'typing', roomId, isTyping: true }, 'not_joined'],
      [{ type: 'join', roomId: 999_999 }, 'room_not_found'],
      [{ type: 'message', roomId: 999_999, body: 'x', clientId: 'e5' }, 'room_not_found', 'e5'],
      [{ type: 'read', roomId: 999_999, messageId: 1 }, 'room_not_found']
    ]
    for (const [frame, code, clientId] of cases) {
      const error = await a.request(frame, 'error')
      expect(error, JSON.stringify(frame)).toMatchObject({ type: 'error', code })
      expect(typeof error.message).toBe('string')
      expect(error.clientId).toBe(clientId)
    }
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    expect(await a.waitFor((f) => f.type === 'error' && f.message.includes('binary'))).toMatchObject({ code: 'invalid_json' })
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    await a.sync() // still usable
    expect(a.ws.readyState).toBe(a.ws.OPEN)
    expect((await history(alice.token, roomId)).messages).toHaveLength(0)
  })

  it('a text frame that is not UTF-8 closes with 1007', async () => {
    const alice = await registerUser(t.app)
    const a = await open(alice.token)
    a.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect((await a.closed).code).toBe(1007)
  })

  it('a frame over MAX_FRAME_BYTES closes with 1009; the server carries on', async () => {
    const alice = await registerUser(t.app)
    const a = await open(alice.token)
    a.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70_000) }))
    expect((await a.closed).code).toBe(1009)
    await (await open(alice.token)).sync()
  })
})

describe('the upgrade', () => {
  it('takes the token from the query or from the bearer subprotocol, and answers with subprotocol bearer', async () => {
    const alice = await registerUser(t.app)
    const viaProtocol = await open(alice.token, { via: 'protocol' })
    expect(viaProtocol.ws.protocol).toBe('bearer')
    expect(viaProtocol.frames[0]).toMatchObject({ type: 'ready', user: { id: alice.id } })
  })

  it('refuses missing, bad, forged, alg:none, expired and revoked tokens with 401 and the error body', async () => {
    const alice = await registerUser(t.app)
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: String(alice.id), jti: 'ws-test', exp: now + 3600 }
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    const forged = signJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'secret')
    const expired = signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 10 }, t.config.secretKey)
    const revoked = (await registerUser(t.app)).token
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(revoked) })).statusCode).toBe(204)
    // The crafted token is good as such: only what is changed above makes the others fail.
    await (await open(signJwt({ alg: 'HS256', typ: 'JWT' }, claims, t.config.secretKey))).sync()

    for (const token of [null, 'garbage', none, forged, expired, revoked]) {
      const { status, body } = await refused(t.base, token)
      expect(status, String(token)).toBe(401)
      expect(body.error.code).toBe('unauthorized')
    }
    expect((await refused(t.base, forged, { via: 'protocol' })).status).toBe(401)
  })

  it('refuses a foreign Origin with 403; allows allowlisted, same-origin (also by LAN address) and no Origin', async () => {
    const alice = await registerUser(t.app)
    for (const origin of ['http://evil.example', 'null', `https://${new URL(t.base).host}`, 'http://localhost:8001']) {
      const { status, body } = await refused(t.base, alice.token, { headers: { Origin: origin } })
      expect(status, origin).toBe(403)
      expect(body.error.code).toBe('forbidden')
    }
    await (await open(alice.token, { headers: { Origin: 'http://localhost:8000' } })).sync() // CORS_ALLOW_ORIGINS default
    await (await open(alice.token, { headers: { Origin: t.base } })).sync() // the page this server serves
    await (await open(alice.token)).sync() // no Origin: a non-browser client with a valid token
    // By LAN address: the server must listen on every address (HOST=0.0.0.0) to answer to one.
    const lan = await listeningApp({ HOST: '0.0.0.0' })
    try {
      const carol = await registerUser(lan.app)
      const socket = await connect(lan.base, carol.token, { headers: { Origin: 'http://192.168.1.20:8000', Host: '192.168.1.20:8000' } })
      await socket.sync()
      await socket.close()
      // A foreign Origin is refused even with the LAN Host.
      expect((await refused(lan.base, carol.token, { headers: { Origin: 'http://192.168.1.21:8000', Host: '192.168.1.20:8000' } })).status).toBe(403)
    } finally {
      await lan.close()
    }
  })

  it('logging out closes that token\'s sockets with 4001, not the user\'s other sessions', async () => {
    const alice = await registerUser(t.app)
    const other = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: alice.username, password: alice.password } })
    const a1 = await open(alice.token)
    const a2 = await open(alice.token)
    const elsewhere = await open(other.json().token)
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(alice.token) })).statusCode).toBe(204)
    expect((await a1.closed).code).toBe(4001)
    expect((await a2.closed).code).toBe(4001)
    await elsewhere.sync()
    expect((await refused(t.base, alice.token)).status).toBe(401)
  })
})

describe('unread state and catch-up', () => {
  it('read frames store the last-read message; GET /api/rooms reports unreadCount and lastReadId', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(bob.token)
    const sent = [await restSend(bob.token, roomId, 'one'), await restSend(bob.token, roomId, 'two'), await restSend(bob.token, roomId, 'three')]
    const readState = async () => {
      const res = await t.app.inject({ url: '/api/rooms', headers: bearer(alice.token) })
      return res.json().rooms.find((r: Frame) => r.id === roomId)
    }
    expect(await readState()).toMatchObject({ unreadCount: 3, lastReadId: null })

    const a = await open(alice.token)
    a.send({ type: 'read', roomId, messageId: sent[1]!.id })
    await a.sync() // frames are handled in order: the marker is stored once the pong is here
    expect(await readState()).toMatchObject({ unreadCount: 1, lastReadId: sent[1]!.id })
    a.send({ type: 'read', roomId, messageId: sent[0]!.id }) // an older marker never moves it back
    await a.sync()
    expect(await readState()).toMatchObject({ unreadCount: 1, lastReadId: sent[1]!.id })
    const own = await restSend(alice.token, roomId, 'mine') // one's own messages are never unread
    expect(await readState()).toMatchObject({ unreadCount: 1 })
    a.send({ type: 'read', roomId, messageId: own.id })
    await a.sync()
    expect(await readState()).toMatchObject({ unreadCount: 0, lastReadId: own.id })
  })

  it('a client that was away catches up with ?after=<last seen id>: every message, in order, once', async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const roomId = await newRoom(bob.token)
    const b = await open(bob.token)
    await join(b, roomId)
    let a = await open(alice.token)
    await join(a, roomId)
    for (let i = 0; i < 3; i++) await b.request({ type: 'message', roomId, body: `before ${i}`, clientId: `p${i}` }, 'ack')
    const seen = new Map<number, Frame>()
    await a.waitFor(() => a.of('message').length === 3)
    for (const f of a.of('message')) seen.set(f.message.id, f.message)
    const lastSeen = Math.max(...seen.keys())
    await a.close()

    for (let i = 0; i < 7; i++) await b.request({ type: 'message', roomId, body: `away ${i}`, clientId: `q${i}` }, 'ack')
    // Bob keeps sending while alice reconnects: the live frames and the catch-up pages overlap.
    const racing = (async () => {
      for (let i = 0; i < 5; i++) await b.request({ type: 'message', roomId, body: `during ${i}`, clientId: `r${i}` }, 'ack')
    })()
    a = await open(alice.token)
    await join(a, roomId) // subscribe first, then fetch the backlog (no gap between the two)
    const fetched: Frame[] = []
    let after = lastSeen
    for (;;) {
      const page = await history(alice.token, roomId, `?after=${after}&limit=3`)
      fetched.push(...page.messages)
      if (!page.hasMore) break
      after = page.messages.at(-1)!.id
    }
    await racing
    const final = (await history(bob.token, roomId, '?limit=100')).messages
    await a.waitFor(isMessage(final.at(-1)!.id))
    const fetchedIds = fetched.map((m) => m.id)
    expect(fetchedIds).toEqual([...fetchedIds].sort((x, y) => x - y)) // pages are in order
    expect(new Set(fetchedIds).size).toBe(fetchedIds.length) // and hold no duplicates
    for (const m of [...fetched, ...a.of('message').map((f) => f.message)]) seen.set(m.id, m) // merge by id
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(final.map((m) => m.id))
    expect(fetched.slice(0, 7).map((m) => m.body)).toEqual(Array.from({ length: 7 }, (_, i) => `away ${i}`))
  })
})
