// A private room is invisible to non-members: every route and frame answers them exactly as for a
// missing room (status, body, error frame), and nothing of the room reaches their sockets: not its
// messages, presence or typing, not its `room` frame. Removal takes effect at once on every socket.
// Private attachments answer only to current members, by header or by the media cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, registerUser, uniqueName } from '../helper.js'
import { connect, listeningApp, settle, type Frame, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'
import { makePng, upload } from '../uploads/helpers.js'

let t: ListeningApp
type Person = Awaited<ReturnType<typeof registerUser>>
let root: Person, alice: Person, bob: Person, eve: Person
let secret: number
const MISSING = 999999

const sockets: TestSocket[] = []
async function open (token: string): Promise<TestSocket> {
  const socket = await connect(t.base, token)
  sockets.push(socket)
  return socket
}

const call = async (token: string, method: string, url: string, payload?: unknown) =>
  t.app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as object }) })

beforeAll(async () => {
  t = await listeningApp()
  root = await registerUser(t.app, uniqueName('root'))
  alice = await registerUser(t.app)
  bob = await registerUser(t.app)
  eve = await registerUser(t.app)
  const res = await call(alice.token, 'POST', '/api/rooms', { name: uniqueName('secret'), topic: 'hush', visibility: 'private' })
  expect(res.json().room).toMatchObject({ kind: 'private', myRole: 'owner' })
  secret = res.json().room.id
  await call(alice.token, 'POST', `/api/rooms/${secret}/messages`, { body: 'the plan' })
})
afterAll(async () => {
  await Promise.all(sockets.map(async (s) => s.close()))
  await t.close()
})

describe('REST: a non-member gets exactly what a missing room gets', () => {
  const routes: Array<[string, string, unknown?]> = [
    ['GET', ''], ['PATCH', '', { topic: 'x' }], ['GET', '/messages'], ['GET', '/messages?limit=5&before=9'], ['POST', '/messages', { body: 'hi' }],
    ['GET', '/members'], ['GET', '/bans'], ['GET', '/audit'], ['POST', '/members', { userId: 1 }], ['DELETE', '/members/1']
  ]
  it.each(routes)('%s /api/rooms/:id%s', async (method, path, body) => {
    const real = await call(eve.token, method, `/api/rooms/${secret}${path}`, body)
    const missing = await call(eve.token, method, `/api/rooms/${MISSING}${path}`, body)
    expect(real.statusCode).toBe(404)
    expect(real.json()).toEqual(missing.json())
    expect(real.json().error.code).toBe('room_not_found')
  })

  it('uploads', async () => {
    const png = await makePng(20, 20)
    const real = await upload(t.app, eve.token, { bytes: png, filename: 'a.png' }, { roomId: secret })
    const missing = await upload(t.app, eve.token, { bytes: png, filename: 'a.png' }, { roomId: MISSING })
    expect([real.statusCode, real.json()]).toEqual([404, missing.json()])
  })

  it('the room list (and so its unread counts) leaves it out for them, shows it to members and administrators', async () => {
    const ids = async (token: string) => (await call(token, 'GET', '/api/rooms')).json().rooms.map((r: { id: number }) => r.id)
    expect(await ids(eve.token)).not.toContain(secret)
    expect(await ids(alice.token)).toContain(secret)
    expect(await ids(root.token)).toContain(secret)
    const mine = (await call(alice.token, 'GET', '/api/rooms')).json().rooms.find((r: { id: number }) => r.id === secret)
    expect(mine).toMatchObject({ kind: 'private', archived: false, myRole: 'owner', unreadCount: 0 })
  })
})

describe('attachments of a private room', () => {
  let url = ''
  let thumb = ''
  beforeAll(async () => {
    const res = await upload(t.app, alice.token, { bytes: await makePng(400, 300), filename: 'plan.png' }, { roomId: secret })
    expect(res.statusCode).toBe(201)
    url = res.json().message.attachment.url
    thumb = res.json().message.attachment.thumbnailUrl
  })
  const get = async (path: string, headers: Record<string, string> = {}) => t.app.inject({ url: path, headers })

  it('answer members by header or by the cookie that login sets; anyone else gets the 404 of a missing file', async () => {
    const missing = await get(url.replace(/[a-z0-9]{4}(?=\.)/i, 'zzzz'))
    expect((await get(url, bearer(alice.token))).statusCode).toBe(200)
    expect((await get(thumb, bearer(alice.token))).statusCode).toBe(200)
    for (const headers of [{}, bearer(eve.token), { cookie: `chat_media=${eve.token}` }, { cookie: 'chat_media=garbage' }]) {
      const res = await get(url, headers)
      expect([res.statusCode, res.json()]).toEqual([404, missing.json()])
      expect((await get(thumb, headers)).statusCode).toBe(404)
    }
    expect((await get(url, bearer(alice.token))).headers['cache-control']).toBe('private, no-cache')

    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: alice.username, password: alice.password } })
    const cookie = String(login.headers['set-cookie'])
    expect(cookie).toMatch(/^chat_media=[\w.-]+; Max-Age=\d+; Path=\/media; HttpOnly; SameSite=Strict$/)
    const pair = cookie.split(';')[0]!
    expect((await get(url, { cookie: pair })).statusCode).toBe(200)
    // The cookie opens /media only: the API still wants the bearer token (no CSRF through it).
    expect((await t.app.inject({ url: '/api/rooms', headers: { cookie: pair } })).statusCode).toBe(401)
    expect((await t.app.inject({ method: 'POST', url: '/api/rooms', headers: { cookie: pair }, payload: { name: 'csrf' } })).statusCode).toBe(401)
    // Logout clears it, and the token behind it stops working.
    const token = pair.split('=')[1]!
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(token) })
    expect(String(out.headers['set-cookie'])).toMatch(/^chat_media=; Max-Age=0; Path=\/media; HttpOnly; SameSite=Strict$/)
    expect((await get(url, { cookie: pair })).statusCode).toBe(404)
  })

  it('a member removed since gets a 404; public rooms’ files stay reachable by URL', async () => {
    const carol = await registerUser(t.app)
    expect((await call(alice.token, 'POST', `/api/rooms/${secret}/members`, { userId: carol.id })).statusCode).toBe(201)
    expect((await get(url, bearer(carol.token))).statusCode).toBe(200)
    expect((await call(alice.token, 'DELETE', `/api/rooms/${secret}/members/${carol.id}`)).statusCode).toBe(204)
    expect((await get(url, bearer(carol.token))).statusCode).toBe(404)
    const pub = await upload(t.app, alice.token, { bytes: await makePng(20, 20), filename: 'p.png' }, { roomId: 1 })
    expect((await get(pub.json().message.attachment.url)).statusCode).toBe(200)
  })
})

describe('WebSocket: nothing of a private room reaches a non-member', () => {
  const errorOf = async (socket: TestSocket, frame: Record<string, unknown>): Promise<Frame> => socket.request(frame, 'error')

  it('join, send, typing and read answer as for a missing room', async () => {
    const e = await open(eve.token)
    for (const frame of [{ type: 'join' }, { type: 'message', body: 'x', clientId: 'c1' }, { type: 'typing', isTyping: true }, { type: 'read', messageId: 1 }]) {
      const real = await errorOf(e, { ...frame, roomId: secret })
      const missing = await errorOf(e, { ...frame, roomId: MISSING })
      expect(real).toEqual(missing)
      expect(real.code).toBe('room_not_found')
    }
  })

  it('presence, typing, messages and the room frame go to members only; an added member sees the room live', async () => {
    const e = await open(eve.token)
    const b = await open(bob.token)
    const a = await open(alice.token)
    await e.request({ type: 'join', roomId: 1 }, 'joined')
    await a.request({ type: 'join', roomId: secret }, 'joined')
    a.send({ type: 'typing', roomId: secret, isTyping: true })
    await a.request({ type: 'message', roomId: secret, body: 'members only', clientId: 'm1' }, 'ack')
    // A new private room: its `room` frame goes to its owner (and administrators) only.
    const created = await call(alice.token, 'POST', '/api/rooms', { name: uniqueName('hidden'), visibility: 'private' })
    const hiddenId = created.json().room.id
    await a.waitFor((f) => f.type === 'room' && f.room.id === hiddenId)
    // Bob is added to the first room: his socket hears of it at once, and may join.
    expect((await call(alice.token, 'POST', `/api/rooms/${secret}/members`, { userId: bob.id })).statusCode).toBe(201)
    expect((await b.waitFor((f) => f.type === 'room')).room).toMatchObject({ id: secret, kind: 'private' })
    const joined = await b.request({ type: 'join', roomId: secret }, 'joined')
    expect(joined.online.map((u: { id: number }) => u.id)).toContain(alice.id)
    await a.waitFor((f) => f.type === 'member' && f.userId === bob.id && f.change === 'added')
    await settle(100)
    await e.sync()
    const leaked = e.frames.filter((f) => f.roomId === secret || f.room?.id === secret || f.room?.id === hiddenId || f.message?.roomId === secret)
    expect(leaked).toEqual([])
    expect(b.frames.some((f) => f.room?.id === hiddenId)).toBe(false)
  })

  it('a kick reaches every socket of the person at once: `removed`, unsubscribed, nothing more from the room', async () => {
    const dave = await registerUser(t.app)
    await call(alice.token, 'POST', `/api/rooms/${secret}/members`, { userId: dave.id })
    const d1 = await open(dave.token)
    const d2 = await open(dave.token)
    const a = await open(alice.token)
    for (const s of [d1, d2, a]) await s.request({ type: 'join', roomId: secret }, 'joined')
    expect((await call(alice.token, 'DELETE', `/api/rooms/${secret}/members/${dave.id}`)).statusCode).toBe(204)
    for (const s of [d1, d2]) expect(await s.waitFor((f) => f.type === 'removed')).toEqual({ type: 'removed', roomId: secret, reason: 'kicked' })
    expect(await a.waitFor((f) => f.type === 'member' && f.userId === dave.id)).toMatchObject({ roomId: secret, member: null, change: 'removed' })
    await a.request({ type: 'message', roomId: secret, body: 'after the kick', clientId: 'k1' }, 'ack')
    a.send({ type: 'typing', roomId: secret, isTyping: true })
    await settle(100)
    for (const s of [d1, d2]) {
      await s.sync()
      expect(s.frames.filter((f) => f.message?.body === 'after the kick' || (f.type === 'typing' && f.roomId === secret))).toEqual([])
      expect((await s.request({ type: 'join', roomId: secret }, 'error')).code).toBe('room_not_found')
    }
  })

  it('a ban from a public room: `removed` with reason banned; joining again is refused with `banned`', async () => {
    const mod = await registerUser(t.app)
    const room = (await call(mod.token, 'POST', '/api/rooms', { name: uniqueName('open') })).json().room
    const troll = await registerUser(t.app)
    const s = await open(troll.token)
    await s.request({ type: 'join', roomId: room.id }, 'joined')
    expect((await call(mod.token, 'PUT', `/api/rooms/${room.id}/bans/${troll.id}`, {})).statusCode).toBe(204)
    expect(await s.waitFor((f) => f.type === 'removed')).toEqual({ type: 'removed', roomId: room.id, reason: 'banned' })
    expect(await s.request({ type: 'join', roomId: room.id }, 'error')).toMatchObject({ code: 'banned' })
    expect(await s.request({ type: 'message', roomId: room.id, body: 'x', clientId: 'b1' }, 'error')).toMatchObject({ code: 'banned', clientId: 'b1' })
  })

  it('an archived room refuses socket sends with room_archived, and everyone who sees it gets room_updated', async () => {
    const owner = await registerUser(t.app)
    const room = (await call(owner.token, 'POST', '/api/rooms', { name: uniqueName('old') })).json().room
    const s = await open(owner.token)
    const other = await open(eve.token)
    await s.request({ type: 'join', roomId: room.id }, 'joined')
    await call(owner.token, 'PATCH', `/api/rooms/${room.id}`, { archived: true })
    expect((await other.waitFor((f) => f.type === 'room_updated' && f.room.id === room.id)).room).toMatchObject({ archived: true })
    expect(await s.request({ type: 'message', roomId: room.id, body: 'late', clientId: 'a1' }, 'error')).toMatchObject({ code: 'room_archived', clientId: 'a1' })
  })
})
