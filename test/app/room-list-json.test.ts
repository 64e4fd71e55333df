// GET /api/rooms writes its JSON piece by piece (src/rooms/list-json.ts): the bytes must be exactly
// JSON.stringify of the rooms as one object each (the store's listFor, with the lifecycle's
// mentions and mutes merged in), for every kind of room and every awkward name, and follow a
// rename or an archive at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { roomListJson } from '../../src/rooms/list-json.js'
import type { ListedRoom } from '../../src/storage/index.js'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'

type Person = Awaited<ReturnType<typeof registerUser>>
let t: TestApp
let root: Person, alice: Person, bob: Person
beforeAll(async () => {
  t = await buildTestApp()
  root = await registerUser(t.app) // the first account: a server administrator
  alice = await registerUser(t.app)
  bob = await registerUser(t.app)
})
afterAll(async () => { await t.close() })

const call = async (who: Person, method: string, url: string, payload?: unknown) =>
  t.app.inject({ method: method as 'GET', url, headers: bearer(who.token), ...(payload === undefined ? {} : { payload: payload as object }) })

/** What the route answered before it wrote its own JSON: the objects, stringified. */
async function expected (who: Person, isAdmin: boolean): Promise<string> {
  const [rooms, states] = await Promise.all([t.app.storage.rooms.listFor(who.id, isAdmin), t.app.storage.lifecycle.roomStates(who.id)])
  return JSON.stringify({ rooms: rooms.map((room) => ({ ...room, mentionCount: states.get(room.id)?.mentionCount ?? 0, muted: states.get(room.id)?.muted ?? false })) })
}

describe('GET /api/rooms', () => {
  it('is exactly the JSON of the rooms as objects: DMs with their people, private and archived rooms, roles, markers, mentions, mutes', async () => {
    const quoted = (await call(alice, 'POST', '/api/rooms', { name: 'He said "hi" \\ back', topic: 'Ünïcødé 👋 \u2028 line\ttab', visibility: 'private' })).json().room
    const plain = (await call(alice, 'POST', '/api/rooms', { name: 'Plain' })).json().room
    expect((await call(alice, 'POST', '/api/dms', { userIds: [bob.id] })).statusCode).toBe(201)
    expect((await call(alice, 'PATCH', `/api/rooms/${plain.id}`, { archived: true })).statusCode).toBe(200)
    const first = (await call(alice, 'POST', `/api/rooms/${quoted.id}/messages`, { body: 'first' })).json().message
    await call(bob, 'POST', `/api/rooms/1/messages`, { body: `hey @${alice.username}` })
    await call(bob, 'POST', `/api/rooms/1/messages`, { body: 'more' })
    await t.app.storage.reads.markRead(alice.id, quoted.id, first.id)
    expect((await call(alice, 'PUT', '/api/rooms/2/mute')).statusCode).toBe(204)

    for (const [who, isAdmin] of [[alice, false], [bob, false], [root, true]] as const) {
      const res = await call(who, 'GET', '/api/rooms')
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(res.body).toBe(await expected(who, isAdmin))
    }
    const mine = (await call(alice, 'GET', '/api/rooms')).json().rooms as Array<Record<string, unknown>>
    expect(mine.find((r) => r.id === quoted.id)).toMatchObject({ name: 'He said "hi" \\ back', kind: 'private', myRole: 'owner', lastReadId: first.id, unreadCount: 0 })
    expect(mine.find((r) => r.id === plain.id)).toMatchObject({ archived: true })
    expect(mine.find((r) => r.kind === 'dm')).toMatchObject({ members: expect.arrayContaining([{ id: bob.id, username: bob.username }]) })
    expect(mine.find((r) => r.id === 1)).toMatchObject({ mentionCount: 1, unreadCount: 2, muted: false })
    expect(mine.find((r) => r.id === 2)).toMatchObject({ muted: true })
    // The administrator sees the private room as its owner would; bob does not see it.
    expect(((await call(root, 'GET', '/api/rooms')).json().rooms as Array<{ id: number, myRole: string }>).find((r) => r.id === quoted.id)?.myRole).toBe('owner')
    expect(((await call(bob, 'GET', '/api/rooms')).json().rooms as Array<{ id: number }>).some((r) => r.id === quoted.id)).toBe(false)
  })

  it('follows a rename and a topic change at once (the encoded pieces go with the store\'s old copy)', async () => {
    const room = (await call(alice, 'POST', '/api/rooms', { name: 'Before', topic: 'old topic' })).json().room
    expect((await call(alice, 'GET', '/api/rooms')).body).toContain('"name":"Before","topic":"old topic"')
    expect((await call(alice, 'PATCH', `/api/rooms/${room.id}`, { name: 'After', topic: 'new "topic"' })).statusCode).toBe(200)
    const res = await call(alice, 'GET', '/api/rooms')
    expect(res.body).not.toContain('"name":"Before"')
    expect(res.body).toBe(await expected(alice, false))
  })
})

describe('roomListJson', () => {
  it('writes what JSON.stringify writes, whatever the text and however large the numbers', () => {
    const room = { id: 7, name: '"\\\u0000\u001f\u2028\u2029💥', topic: '</script>', createdBy: null, createdAt: '2026-01-01T00:00:00.000Z', lastSeq: 1, kind: 'dm' as const, archived: true, members: [{ id: 1, username: 'a"b' }] }
    const listed: ListedRoom[] = [
      { room, lastSeq: Number.MAX_SAFE_INTEGER, unreadCount: 1000, lastReadId: Number.MAX_SAFE_INTEGER - 1, myRole: 'member' },
      { room: { ...room, id: 8, kind: 'public', members: undefined, createdBy: { id: 3, username: 'x' } }, lastSeq: 0, unreadCount: 0, lastReadId: null, myRole: null }
    ]
    const states = new Map([[7, { mentionCount: 123456789, muted: true }]])
    const { members, ...rest } = room
    const objects = [
      { ...rest, lastSeq: Number.MAX_SAFE_INTEGER, unreadCount: 1000, lastReadId: Number.MAX_SAFE_INTEGER - 1, myRole: 'member', members, mentionCount: 123456789, muted: true },
      { ...rest, id: 8, kind: 'public', createdBy: { id: 3, username: 'x' }, lastSeq: 0, unreadCount: 0, lastReadId: null, myRole: null, mentionCount: 0, muted: false }
    ]
    expect(roomListJson(listed, states).toString()).toBe(JSON.stringify({ rooms: objects }))
    expect(roomListJson([], new Map()).toString()).toBe('{"rooms":[]}')
  })

  it('writes every number as JSON.stringify does, the ones counters never hold included', () => {
    const room = { id: 1, name: 'n', topic: '', createdBy: null, createdAt: 'c', lastSeq: 0, kind: 'private' as const, archived: false }
    for (const [lastSeq, unreadCount, lastReadId, mentionCount] of [[0, 9, 10, 99], [100, 1000, 1, 1e15], [-1, 1.5, Number.NaN, Infinity], [2 ** 53, -0, 0, 7]]) {
      const listed: ListedRoom[] = [{ room, lastSeq: lastSeq!, unreadCount: unreadCount!, lastReadId: lastReadId!, myRole: 'moderator' }]
      const object = { ...room, lastSeq, unreadCount, lastReadId, myRole: 'moderator', mentionCount, muted: false }
      expect(roomListJson(listed, new Map([[1, { mentionCount: mentionCount!, muted: false }]])).toString()).toBe(JSON.stringify({ rooms: [object] }))
    }
  })
})
