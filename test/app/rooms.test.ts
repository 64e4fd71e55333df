import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, registerUser, uniqueName, type TestApp } from '../helper.js'

let t: TestApp
let token: string
beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => { await t.close() })

const create = (payload: unknown, auth = token) =>
  t.app.inject({ method: 'POST', url: '/api/rooms', payload: payload as object, headers: bearer(auth) })

describe('rooms', () => {
  it('a fresh database holds the three contract rooms, ordered by name', async () => {
    const fresh = await buildTestApp()
    const { token } = await registerUser(fresh.app)
    const res = await fresh.app.inject({ url: '/api/rooms', headers: bearer(token) })
    expect(res.statusCode).toBe(200)
    expect(res.json().rooms.map((r: { name: string, topic: string, createdBy: unknown }) => [r.name, r.topic, r.createdBy])).toEqual([
      ['Development', 'Engineering and product updates', null],
      ['General', 'Company-wide discussions', null],
      ['Support', 'Customer success and support chats', null]
    ])
    await fresh.close()
  })

  it('creates a room with its creator, and lists it', async () => {
    const name = uniqueName('Room ')
    const res = await create({ name: `  ${name}  `, topic: 'Things' })
    expect(res.statusCode).toBe(201)
    const { room } = res.json()
    expect(room).toMatchObject({ name, topic: 'Things', createdBy: { username: expect.any(String) } })
    const list = (await t.app.inject({ url: '/api/rooms', headers: bearer(token) })).json().rooms
    expect(list.some((r: { id: number }) => r.id === room.id)).toBe(true)
    const one = await t.app.inject({ url: `/api/rooms/${room.id}`, headers: bearer(token) })
    expect(one.json()).toEqual({ room })
  })

  it('409 room_exists for a name that differs only in case', async () => {
    const res = await create({ name: 'GENERAL' })
    expect(res.statusCode).toBe(409)
    expect(res.json().error.code).toBe('room_exists')
    const unicode = await create({ name: 'Ÿsland' })
    expect(unicode.statusCode).toBe(201)
    expect((await create({ name: 'ÿSLAND' })).statusCode).toBe(409)
  })

  it.each([
    ['empty name', { name: '   ' }],
    ['65 characters', { name: 'x'.repeat(65) }],
    ['topic of 513', { name: 'fine', topic: 't'.repeat(513) }],
    ['control characters', { name: 'bad\u0007name' }],
    ['unknown field', { name: 'fine', private: true }],
    ['name not a string', { name: ['a'] }]
  ])('400 for %s', async (_name, payload) => {
    const res = await create(payload)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('validation_failed')
  })

  it.each(['999999', '0', '-1', '1.5', 'abc', '1e3', '01'])('GET /api/rooms/%s is a 404 or 400 with the error shape', async (id) => {
    const res = await t.app.inject({ url: `/api/rooms/${id}`, headers: bearer(token) })
    expect([400, 404]).toContain(res.statusCode)
    expect(res.json().error.code).toBe(res.statusCode === 404 ? 'room_not_found' : 'validation_failed')
  })

  it('ROOMS_PER_HOUR: a user who creates too many rooms gets 429; others still can', async () => {
    const limited = await buildTestApp({ ROOMS_PER_HOUR: '2' })
    const [a, b] = [await registerUser(limited.app), await registerUser(limited.app)]
    const make = (token: string, name: string) =>
      limited.app.inject({ method: 'POST', url: '/api/rooms', payload: { name }, headers: bearer(token) })
    expect((await make(a.token, 'a1')).statusCode).toBe(201)
    expect((await make(a.token, 'a2')).statusCode).toBe(201)
    const third = await make(a.token, 'a3')
    expect(third.statusCode).toBe(429)
    expect(third.json().error.code).toBe('rate_limited')
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0)
    expect((await make(b.token, 'b1')).statusCode).toBe(201)
    await limited.close()
  })

  it('needs a token', async () => {
    expect((await t.app.inject({ url: '/api/rooms' })).statusCode).toBe(401)
    expect((await t.app.inject({ method: 'POST', url: '/api/rooms', payload: { name: 'x' } })).statusCode).toBe(401)
  })
})
