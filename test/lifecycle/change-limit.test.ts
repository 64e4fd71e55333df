// CHANGES_PER_SECOND: edits, reactions and pins per user (bursts of 3×), so that one person's
// storm of changes slows their own, not everyone's; deletes are never limited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'

type User = Awaited<ReturnType<typeof registerUser>>
let t: TestApp
let alice: User
let bob: User

beforeAll(async () => {
  t = await buildTestApp({ CHANGES_PER_SECOND: '1' }) // a burst of 3, then one a second
  alice = await registerUser(t.app, 'alice')
  bob = await registerUser(t.app, 'bob')
})
afterAll(async () => t.close())

const call = async (user: User, method: string, url: string, payload?: object) =>
  await t.app.inject({ method: method as 'GET', url, headers: bearer(user.token), ...(payload === undefined ? {} : { payload }) })
const send = async (user: User, body: string): Promise<number> => {
  const res = await call(user, 'POST', '/api/rooms/1/messages', { body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().message.id
}
const thumbsUp = encodeURIComponent('👍')

describe('CHANGES_PER_SECOND', () => {
  it('refuses a user\'s changes beyond the burst with 429 and Retry-After; others, sends and deletes go on', async () => {
    const id = await send(alice, 'react to me')
    const path = `/api/rooms/1/messages/${id}/reactions/${thumbsUp}`
    for (const method of ['PUT', 'DELETE', 'PUT']) expect((await call(alice, method, path)).statusCode).toBe(200)

    const refused = await call(alice, 'DELETE', path)
    expect(refused.statusCode).toBe(429)
    expect(refused.json()).toEqual({ error: { code: 'rate_limited', message: 'You are changing messages too fast (edits, reactions, pins); wait a moment.' } })
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Edits count too, and a refused change changed nothing.
    expect((await call(alice, 'PATCH', `/api/rooms/1/messages/${id}`, { body: 'edited' })).statusCode).toBe(429)
    const message = (await call(alice, 'GET', `/api/rooms/1/messages?around=${id}&limit=1`)).json().messages.find((m: { id: number }) => m.id === id)
    expect(message).toMatchObject({ body: 'react to me', editedAt: null, reactions: [{ emoji: '👍', count: 1, userIds: [alice.id] }] })

    // Someone else's allowance is their own; sending and deleting are not changes of this kind.
    expect((await call(bob, 'PUT', `/api/rooms/1/messages/${id}/reactions/${encodeURIComponent('🎉')}`)).statusCode).toBe(200)
    const other = await send(alice, 'still sending')
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${other}`)).statusCode).toBe(204)
  })

  it('gives a token back each second', async () => {
    const carol = await registerUser(t.app, 'carol')
    const id = await send(carol, 'slowly')
    const path = `/api/rooms/1/messages/${id}/reactions/${thumbsUp}`
    for (const method of ['PUT', 'DELETE', 'PUT']) expect((await call(carol, method, path)).statusCode).toBe(200)
    expect((await call(carol, 'DELETE', path)).statusCode).toBe(429)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await call(carol, 'DELETE', path)).statusCode).toBe(200)
  })
})
