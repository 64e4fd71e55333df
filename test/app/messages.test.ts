import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'

let t: TestApp
let token: string
let roomId: number
beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
  const res = await t.app.inject({ method: 'POST', url: '/api/rooms', payload: { name: 'History' }, headers: bearer(token) })
  roomId = res.json().room.id
})
afterAll(async () => { await t.close() })

const send = (payload: unknown, room = roomId, auth = token) =>
  t.app.inject({ method: 'POST', url: `/api/rooms/${room}/messages`, payload: payload as object, headers: bearer(auth) })
const history = (query: string, room = roomId) =>
  t.app.inject({ url: `/api/rooms/${room}/messages${query}`, headers: bearer(token) })

describe('POST /api/rooms/:roomId/messages', () => {
  it('stores the message (trailing white space trimmed) and answers 201', async () => {
    const res = await send({ body: 'hello 👋 \n\t ' })
    expect(res.statusCode).toBe(201)
    const { message } = res.json()
    expect(message).toMatchObject({ roomId, body: 'hello 👋', attachment: null, clientId: null, author: { username: expect.any(String) } })
    expect(Object.keys(message.author).sort()).toEqual(['id', 'username'])
  })

  it('returns the first message (200) for a repeated clientId and stores nothing new', async () => {
    const first = await send({ body: 'once', clientId: 'retry-1' })
    const again = await send({ body: 'once', clientId: 'retry-1' })
    expect(first.statusCode).toBe(201)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
    const page = (await history('?limit=100')).json().messages as Message[]
    expect(page.filter((m) => m.clientId === 'retry-1')).toHaveLength(1)
  })

  it('emits the committed message once for the hub to broadcast', async () => {
    const seen: Message[] = []
    const listener = (m: Message) => seen.push(m)
    t.app.events.on('message', listener)
    await send({ body: 'broadcast me', clientId: 'bc-1' })
    await send({ body: 'broadcast me', clientId: 'bc-1' })
    t.app.events.off('message', listener)
    expect(seen.map((m) => m.body)).toEqual(['broadcast me'])
  })

  it.each([
    ['empty', { body: '' }],
    ['only white space', { body: '   \n ' }],
    ['4001 characters', { body: 'x'.repeat(4001) }],
    ['no body', {}],
    ['a number', { body: 42 }],
    ['clientId too long', { body: 'x', clientId: 'c'.repeat(65) }],
    ['empty clientId', { body: 'x', clientId: '' }],
    ['unknown field', { body: 'x', author: 'mallory' }]
  ])('400 for %s', async (_name, payload) => {
    const res = await send(payload)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('validation_failed')
  })

  it('measures the body after trimming trailing white space', async () => {
    const res = await send({ body: 'x'.repeat(3000) + ' '.repeat(5001) })
    expect(res.statusCode).toBe(201)
    expect(res.json().message.body).toHaveLength(3000)
  })

  it('counts characters, not UTF-16 units: 4000 emoji fit', async () => {
    expect((await send({ body: '😀'.repeat(4000) })).statusCode).toBe(201)
  })

  it('404 room_not_found for a room that does not exist', async () => {
    const res = await send({ body: 'x' }, 999999)
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('room_not_found')
  })

  it('stores SQL-looking text as data', async () => {
    const body = "'); DROP TABLE messages;--"
    expect((await send({ body })).json().message.body).toBe(body)
    expect((await history('?limit=1')).json().messages[0].body).toBe(body)
  })
})

describe('rate limit on REST sends', () => {
  it('answers 429 with Retry-After beyond MESSAGES_PER_SECOND (bursts of 3×)', async () => {
    const limited = await buildTestApp({ MESSAGES_PER_SECOND: '2' })
    const { token } = await registerUser(limited.app)
    const codes: number[] = []
    for (let i = 0; i < 8; i++) {
      const res = await limited.app.inject({ method: 'POST', url: '/api/rooms/1/messages', payload: { body: `m${i}` }, headers: bearer(token) })
      codes.push(res.statusCode)
      if (res.statusCode === 429) {
        expect(res.json().error.code).toBe('rate_limited')
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      }
    }
    expect(codes.slice(0, 6)).toEqual([201, 201, 201, 201, 201, 201])
    expect(codes.slice(6)).toEqual([429, 429])
    await limited.close()
  })
})

describe('GET /api/rooms/:roomId/messages', () => {
  let ids: number[]
  let room: number
  beforeAll(async () => {
    room = (await t.app.inject({ method: 'POST', url: '/api/rooms', payload: { name: 'Paging' }, headers: bearer(token) })).json().room.id
    ids = []
    for (let i = 0; i < 120; i++) ids.push((await send({ body: `p${i}` }, room)).json().message.id)
  })

  it('gives the newest 50 by default, oldest first, with hasMore', async () => {
    const res = await history('', room)
    expect(res.statusCode).toBe(200)
    const { messages, hasMore } = res.json()
    expect(messages.map((m: Message) => m.id)).toEqual(ids.slice(-50))
    expect(hasMore).toBe(true)
  })

  it('pages back with before= and forward with after=', async () => {
    const older = (await history(`?limit=100&before=${ids[100]}`, room)).json()
    expect(older.messages.map((m: Message) => m.id)).toEqual(ids.slice(0, 100))
    expect(older.hasMore).toBe(false)
    const newer = (await history(`?limit=10&after=${ids[105]}`, room)).json()
    expect(newer.messages.map((m: Message) => m.id)).toEqual(ids.slice(106, 116))
    expect(newer.hasMore).toBe(true)
    const first = (await history('?limit=5&after=0', room)).json()
    expect(first.messages.map((m: Message) => m.id)).toEqual(ids.slice(0, 5))
    expect(first.hasMore).toBe(true)
    const last = (await history(`?after=${ids[119]}`, room)).json()
    expect(last).toEqual({ messages: [], hasMore: false })
  })

  it.each(['?limit=0', '?limit=101', '?limit=-1', '?limit=abc', '?before=1&after=2', '?before=0', '?after=1.5', '?limit=1e2'])(
    '400 for %s', async (query) => {
      const res = await history(query, room)
      expect(res.statusCode).toBe(400)
      expect(res.json().error.code).toBe('validation_failed')
    })

  it('404 for an unknown room', async () => {
    expect((await history('', 999999)).json().error.code).toBe('room_not_found')
  })
})
