// History pages come from the page cache (src/messages/page-cache.ts) when the room has not moved:
// every change to the room's messages shows on the next read, whether this process or another one
// made it; access is checked on every request, cached page or not; a deleted message's text leaves
// the cache at once; PLAINTEXT_CACHE_MB=0 turns the cache off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FernetRing } from '../../src/crypto/fernet.js'
import { openStore } from '../../src/storage/index.js'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'

type Person = Awaited<ReturnType<typeof registerUser>>
interface Msg { id: number, body: string, deletedAt: string | null, reactions: unknown[], pinned: unknown, replyTo: { excerpt: string } | null }

let t: TestApp
let alice: Person, bob: Person, eve: Person
beforeAll(async () => {
  t = await buildTestApp()
  alice = await registerUser(t.app)
  bob = await registerUser(t.app)
  eve = await registerUser(t.app)
})
afterAll(async () => { await t.close() })

const call = async (who: Person, method: string, url: string, payload?: unknown) =>
  t.app.inject({ method: method as 'GET', url, headers: bearer(who.token), ...(payload === undefined ? {} : { payload: payload as object }) })
const page = async (who: Person, roomId: number, query = '') => call(who, 'GET', `/api/rooms/${roomId}/messages?limit=50${query}`)
const messages = async (who: Person, roomId: number, query = ''): Promise<Msg[]> => (await page(who, roomId, query)).json().messages
const room = async (owner: Person, visibility: 'public' | 'private' = 'public'): Promise<number> =>
  (await call(owner, 'POST', '/api/rooms', { name: `cache ${Math.random().toString(36).slice(2)}`, visibility })).json().room.id
const send = async (who: Person, roomId: number, body: string, extra: object = {}): Promise<Msg> =>
  (await call(who, 'POST', `/api/rooms/${roomId}/messages`, { body, ...extra })).json().message

describe('history pages from the cache', () => {
  it('a page read again is the same bytes, with the same headers, served from the cache', async () => {
    const id = await room(alice)
    for (const body of ['one', 'two', 'three']) await send(alice, id, body)
    const first = await page(bob, id)
    const second = await page(bob, id)
    expect(first.statusCode).toBe(200)
    expect(second.body).toBe(first.body)
    expect(second.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(second.headers['content-type']).toBe(first.headers['content-type'])
    expect(second.headers['content-length']).toBe(String(Buffer.byteLength(first.body)))
    expect(first.json()).toMatchObject({ hasMore: false, messages: [{ body: 'one' }, { body: 'two' }, { body: 'three' }] })
    expect(t.app.historyPages!.stats.pages).toBeGreaterThan(0)
  })

  it('every change to the room shows on the next read: a send, an edit (and the reply quoting it), a reaction, a pin, a delete', async () => {
    const id = await room(alice)
    const parent = await send(alice, id, 'the question')
    const reply = await send(bob, id, 'the answer', { replyTo: parent.id })
    const before = await messages(bob, id)
    expect(before.map((m) => m.body)).toEqual(['the question', 'the answer'])
    await send(alice, id, 'a third')
    expect((await messages(bob, id)).map((m) => m.body)).toEqual(['the question', 'the answer', 'a third'])
    expect((await call(alice, 'PATCH', `/api/rooms/${id}/messages/${parent.id}`, { body: 'the better question' })).statusCode).toBe(200)
    let now = await messages(bob, id)
    expect(now[0]!.body).toBe('the better question')
    expect(now.find((m) => m.id === reply.id)!.replyTo!.excerpt).toBe('the better question')
    expect((await call(bob, 'PUT', `/api/rooms/${id}/messages/${parent.id}/reactions/${encodeURIComponent('👍')}`)).statusCode).toBe(200)
    expect((await messages(bob, id))[0]!.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }])
    expect((await call(alice, 'PUT', `/api/rooms/${id}/pins/${parent.id}`)).statusCode).toBe(200)
    expect((await messages(bob, id))[0]!.pinned).toMatchObject({ by: { id: alice.id } })
    expect((await call(alice, 'DELETE', `/api/rooms/${id}/messages/${parent.id}`)).statusCode).toBe(204)
    now = await messages(bob, id)
    expect(now[0]).toMatchObject({ id: parent.id, body: '', deletedAt: expect.any(String), reactions: [], pinned: null })
    expect(now.find((m) => m.id === reply.id)!.replyTo!.excerpt).toBe('')
    // Older pages and catch-up pages follow too.
    expect((await messages(bob, id, `&before=${reply.id}`)).map((m) => m.body)).toEqual([''])
    expect((await messages(bob, id, `&after=${parent.id}`)).map((m) => m.body)).toEqual(['the answer', 'a third'])
  })

  it('a deleted message\'s text leaves the cache when the delete commits, before anyone reads again', async () => {
    const id = await room(alice)
    const secret = await send(alice, id, 'the launch code is 0000')
    await send(alice, id, 'something else')
    for (let i = 0; i < 2; i++) await messages(bob, id) // kept from the second read on
    for (let i = 0; i < 2; i++) await messages(bob, id, `&after=0`)
    const cached = t.app.historyPages!.stats.pages
    expect(cached).toBeGreaterThanOrEqual(2)
    expect((await call(alice, 'DELETE', `/api/rooms/${id}/messages/${secret.id}`)).statusCode).toBe(204)
    expect(t.app.historyPages!.stats.pages).toBe(cached - 2)
  })

  it('a message written by another process on the same database shows on the next read', async () => {
    const id = await room(alice)
    await send(alice, id, 'from this server')
    expect((await messages(bob, id)).map((m) => m.body)).toEqual(['from this server'])
    const other = await openStore(t.config.database, new FernetRing(t.config.encryptionKeys))
    try {
      await other.messages.insert({ roomId: id, author: { id: alice.id, username: alice.username }, body: 'from another node' })
    } finally {
      await other.close()
    }
    expect((await messages(bob, id)).map((m) => m.body)).toEqual(['from this server', 'from another node'])
  })
})

describe('access is checked on every read, cached page or not', () => {
  it('a member removed from a private room gets what a missing room gets; an outsider never saw it', async () => {
    const id = await room(alice, 'private')
    await send(alice, id, 'members only')
    expect((await call(alice, 'POST', `/api/rooms/${id}/members`, { userId: bob.id })).statusCode).toBe(201)
    expect((await messages(bob, id)).map((m) => m.body)).toEqual(['members only'])
    expect((await page(bob, id)).statusCode).toBe(200) // from the cache now
    const outsider = await page(eve, id)
    const missing = await page(eve, 999999)
    expect([outsider.statusCode, outsider.json()]).toEqual([404, missing.json()])
    expect((await call(alice, 'DELETE', `/api/rooms/${id}/members/${bob.id}`)).statusCode).toBe(204)
    const removed = await page(bob, id)
    expect([removed.statusCode, removed.json()]).toEqual([404, (await page(bob, 999999)).json()])
    expect(removed.json().error.code).toBe('room_not_found')
  })

  it('a ban from a public room answers 403 banned at once; an unban lets them read again', async () => {
    const id = await room(alice)
    await send(alice, id, 'public words')
    await messages(eve, id)
    expect((await call(alice, 'PUT', `/api/rooms/${id}/bans/${eve.id}`, {})).statusCode).toBe(204)
    const banned = await page(eve, id)
    expect([banned.statusCode, banned.json().error.code]).toEqual([403, 'banned'])
    expect((await call(alice, 'DELETE', `/api/rooms/${id}/bans/${eve.id}`)).statusCode).toBe(204)
    expect((await page(eve, id)).statusCode).toBe(200)
  })

  it('a revoked token is refused at once, though its page is cached', async () => {
    const carol = await registerUser(t.app)
    const id = await room(alice)
    await send(alice, id, 'hello')
    expect((await page(carol, id)).statusCode).toBe(200)
    expect((await page(carol, id)).statusCode).toBe(200) // the token's check is cached too now (fast-jwt)
    expect((await call(carol, 'POST', '/api/auth/logout')).statusCode).toBe(204)
    const after = await page(carol, id)
    expect([after.statusCode, after.json().error.code]).toEqual([401, 'unauthorized'])
  })
})

describe('PLAINTEXT_CACHE_MB=0', () => {
  it('keeps no pages, and answers the same', async () => {
    const off = await buildTestApp({ PLAINTEXT_CACHE_MB: '0' })
    try {
      expect(off.app.historyPages).toBeNull()
      const owner = await registerUser(off.app)
      const res = await off.app.inject({ method: 'POST', url: '/api/rooms', payload: { name: 'Off' }, headers: bearer(owner.token) })
      const id = res.json().room.id
      await off.app.inject({ method: 'POST', url: `/api/rooms/${id}/messages`, payload: { body: 'plain' }, headers: bearer(owner.token) })
      const first = await off.app.inject({ url: `/api/rooms/${id}/messages?limit=50`, headers: bearer(owner.token) })
      expect(first.json()).toMatchObject({ hasMore: false, messages: [{ body: 'plain' }] })
      expect(first.headers['content-type']).toBe('application/json; charset=utf-8')
    } finally {
      await off.close()
    }
  })
})
