// GET /api/search end to end (app.inject; with TEST_DATABASE=postgres on PostgreSQL): every query
// form, paging, ranking, snippets, Japanese/Chinese and accented text, authorization through
// conversations/access.ts, the background indexing of old messages and its health figure.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Fernet } from '../../src/crypto/fernet.js'
import { readableRoomIds, roomAccess } from '../../src/conversations/access.js'
import { bearer, buildTestApp, registerUser, tempDir, type TestApp } from '../helper.js'

interface Result { message: { id: number, roomId: number, body: string, author: { username: string } }, snippet: string, highlights: Array<{ start: number, end: number }> }
interface Page { results: Result[], hasMore: boolean }

async function search (app: FastifyInstance, token: string, query: Record<string, string>): Promise<Page> {
  const res = await app.inject({ method: 'GET', url: '/api/search', query, headers: bearer(token) })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Page>()
}
const bodies = (page: Page): string[] => page.results.map((r) => r.message.body)

describe('GET /api/search', () => {
  let t: TestApp
  let alice: Awaited<ReturnType<typeof registerUser>>
  let bob: Awaited<ReturnType<typeof registerUser>>
  const send = async (user: { token: string }, roomId: number, body: string): Promise<number> => {
    const res = await t.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: bearer(user.token), payload: { body } })
    expect(res.statusCode).toBe(201)
    return res.json<{ message: { id: number } }>().message.id
  }

  beforeAll(async () => {
    t = await buildTestApp()
    alice = await registerUser(t.app)
    bob = await registerUser(t.app)
    await send(alice, 1, 'We deploy the new release on Friday')
    await send(bob, 1, 'The release notes are at the Café du Monde')
    await send(alice, 2, 'Deployment failed: release rolled back')
    await send(bob, 2, 'friday release release release party')
    await send(alice, 3, '東京都に住んでいます')
    await send(bob, 3, '我们明天在北京开会')
    await send(alice, 1, 'new: the release of the century')
  })
  afterAll(async () => { await t.close() })

  it('words: all must match, any order, case- and accent-insensitive; newest first', async () => {
    expect(bodies(await search(t.app, alice.token, { q: 'RELEASE new' }))).toEqual(['new: the release of the century', 'We deploy the new release on Friday'])
    expect(bodies(await search(t.app, alice.token, { q: 'cafe' }))).toEqual(['The release notes are at the Café du Monde'])
    expect(bodies(await search(t.app, alice.token, { q: 'CAFÉ monde' }))).toHaveLength(1)
    expect((await search(t.app, alice.token, { q: 'nothingmatchesthis' })).results).toEqual([])
  })

  it('"phrases" in order and adjacent; prefix*; from:username', async () => {
    expect(bodies(await search(t.app, alice.token, { q: '"new release"' }))).toEqual(['We deploy the new release on Friday'])
    expect(bodies(await search(t.app, alice.token, { q: '"release new"' }))).toEqual([])
    expect(bodies(await search(t.app, alice.token, { q: 'deplo*' }))).toEqual(['Deployment failed: release rolled back', 'We deploy the new release on Friday'])
    // The 4-character prefix token over-matches; the real text is checked.
    expect(bodies(await search(t.app, alice.token, { q: 'deployme*' }))).toEqual(['Deployment failed: release rolled back'])
    expect(bodies(await search(t.app, alice.token, { q: `release from:${bob.username.toUpperCase()}` }))).toEqual(['friday release release release party', 'The release notes are at the Café du Monde'])
    expect(bodies(await search(t.app, alice.token, { q: `from:${bob.username}`, roomId: '3' }))).toEqual(['我们明天在北京开会'])
    expect((await search(t.app, alice.token, { q: 'release from:nobody_here' })).results).toEqual([])
  })

  it('Japanese and Chinese, written without spaces, are found by their words', async () => {
    expect(bodies(await search(t.app, alice.token, { q: '北京' }))).toEqual(['我们明天在北京开会'])
    expect(bodies(await search(t.app, alice.token, { q: '東京' }))).toEqual(['東京都に住んでいます'])
    expect(bodies(await search(t.app, alice.token, { q: '明天在北京' }))).toEqual(['我们明天在北京开会'])
  })

  it('roomId, limit and before page on with hasMore; sort=relevance ranks', async () => {
    expect(bodies(await search(t.app, alice.token, { q: 'release', roomId: '2' }))).toEqual(['friday release release release party', 'Deployment failed: release rolled back'])
    const first = await search(t.app, alice.token, { q: 'release', limit: '2' })
    expect(first.results).toHaveLength(2)
    expect(first.hasMore).toBe(true)
    const second = await search(t.app, alice.token, { q: 'release', limit: '2', before: String(first.results[1]!.message.id) })
    const third = await search(t.app, alice.token, { q: 'release', limit: '2', before: String(second.results[1]!.message.id) })
    expect(third.hasMore).toBe(false)
    const all = [...first.results, ...second.results, ...third.results].map((r) => r.message.id)
    expect(all).toEqual([...all].sort((a, b) => b - a))
    expect(new Set(all).size).toBe(5)
    const ranked = await search(t.app, alice.token, { q: 'release', sort: 'relevance' })
    expect(ranked.results[0]!.message.body).toBe('friday release release release party')
    expect(ranked.results).toHaveLength(5)
  })

  it('snippet: plain text with the matched words marked', async () => {
    const [hit] = (await search(t.app, alice.token, { q: 'cafe monde' })).results
    expect(hit!.snippet).toBe('The release notes are at the Café du Monde')
    expect(hit!.highlights.map((h) => hit!.snippet.slice(h.start, h.end))).toEqual(['Café', 'Monde'])
    const long = `${'lorem ipsum dolor '.repeat(30)}needle ${'sit amet '.repeat(40)}`
    await send(alice, 1, long)
    const [cut] = (await search(t.app, alice.token, { q: 'needle' })).results
    expect(cut!.snippet.length).toBeLessThan(210)
    expect(cut!.snippet.slice(cut!.highlights[0]!.start, cut!.highlights[0]!.end)).toBe('needle')
  })

  it('a hit opens its room at that message: GET messages?around=ID', async () => {
    const [hit] = (await search(t.app, alice.token, { q: 'cafe' })).results
    const res = await t.app.inject({ method: 'GET', url: `/api/rooms/${hit!.message.roomId}/messages?around=${hit!.message.id}&limit=2`, headers: bearer(alice.token) })
    expect(res.statusCode).toBe(200)
    const page = res.json<{ messages: Array<{ id: number }>, hasMoreBefore: boolean, hasMoreAfter: boolean }>()
    // limit 2: no older message fits, the hit comes first; an older one exists.
    expect(page.messages[0]!.id).toBe(hit!.message.id)
    expect(page.messages).toHaveLength(2)
    expect(page.hasMoreBefore).toBe(true)
    const both = await t.app.inject({ method: 'GET', url: `/api/rooms/1/messages?around=${hit!.message.id}&before=5`, headers: bearer(alice.token) })
    expect(both.statusCode).toBe(400)
  })

  it('refuses what cannot be searched (400 with the reason) and unknown rooms (404); needs a token', async () => {
    for (const query of [{ q: 'd*' } as Record<string, string>, { q: '' }, { q: '!!!' }, { q: 'a', limit: '51' }, { q: 'a', limit: '0' }, { q: 'a', sort: 'best' }, { q: 'a', before: '-1' }, { q: 'a', extra: '1' }, { q: 'x'.repeat(257) }]) {
      const res = await t.app.inject({ method: 'GET', url: '/api/search', query, headers: bearer(alice.token) })
      expect(res.statusCode, JSON.stringify(query)).toBe(400)
      expect(res.json().error.code).toBe('validation_failed')
    }
    const missing = await t.app.inject({ method: 'GET', url: '/api/search?q=release&roomId=9999', headers: bearer(alice.token) })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('room_not_found')
    expect((await t.app.inject({ method: 'GET', url: '/api/search?q=release' })).statusCode).toBe(401)
  })

  it('authorization: every hit is in a room the caller may read; a private room\'s only for its members, and no longer once removed', async () => {
    const owner = await registerUser(t.app)
    const created = await t.app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(owner.token), payload: { name: `secret-${Date.now()}`, visibility: 'private' } })
    expect(created.statusCode).toBe(201)
    const roomId = created.json<{ room: { id: number } }>().room.id
    await send(owner, roomId, 'release plans in the private room')
    const hidden = await t.app.inject({ method: 'GET', url: `/api/search?q=release&roomId=${roomId}`, headers: bearer(bob.token) })
    expect(hidden.statusCode).toBe(404)
    expect(hidden.json().error.code).toBe('room_not_found')
    expect(bodies(await search(t.app, owner.token, { q: 'private' }))).toEqual(['release plans in the private room'])
    expect(bodies(await search(t.app, bob.token, { q: 'private' }))).toEqual([])

    // A member finds it; removed, they do not.
    const member = await registerUser(t.app)
    expect((await t.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/members`, headers: bearer(owner.token), payload: { userId: member.id } })).statusCode).toBe(201)
    expect(bodies(await search(t.app, member.token, { q: 'private' }))).toEqual(['release plans in the private room'])
    expect((await t.app.inject({ method: 'DELETE', url: `/api/rooms/${roomId}/members/${member.id}`, headers: bearer(owner.token) })).statusCode).toBe(204)
    expect(bodies(await search(t.app, member.token, { q: 'private' }))).toEqual([])
    expect((await t.app.inject({ method: 'GET', url: `/api/search?q=private&roomId=${roomId}`, headers: bearer(member.token) })).statusCode).toBe(404)

    // bob is no server administrator (alice, the first account, is: she may read private rooms).
    for (const user of [bob]) {
      const readable = await readableRoomIds(t.app.storage, { id: user.id, isAdmin: false })
      const page = await search(t.app, user.token, { q: 'release', limit: '50' })
      expect(page.results.length).toBeGreaterThan(0)
      for (const r of page.results) {
        expect(readable).toContain(r.message.roomId)
        await expect(roomAccess(t.app.storage, { id: user.id, isAdmin: false }, r.message.roomId)).resolves.toBeTruthy()
        expect(r.message.body).not.toContain('private room')
      }
    }
  })

  it('an edited message is found by its current text only; a deleted one never', async () => {
    const edited = await send(alice, 2, 'the zebrafish arrives tuesday')
    const gone = await send(alice, 2, 'the zebrafish leaves friday')
    expect(bodies(await search(t.app, bob.token, { q: 'zebrafish' })).sort()).toEqual(['the zebrafish arrives tuesday', 'the zebrafish leaves friday'])
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/rooms/2/messages/${edited}`, headers: bearer(alice.token), payload: { body: 'the axolotl arrives tuesday' } })
    expect(patch.statusCode).toBe(200)
    expect((await t.app.inject({ method: 'DELETE', url: `/api/rooms/2/messages/${gone}`, headers: bearer(alice.token) })).statusCode).toBe(204)
    expect(bodies(await search(t.app, bob.token, { q: 'zebrafish' }))).toEqual([])
    expect(bodies(await search(t.app, bob.token, { q: 'axolotl' }))).toEqual(['the axolotl arrives tuesday'])
    expect(bodies(await search(t.app, bob.token, { q: 'leaves' }))).toEqual([])
    expect(bodies(await search(t.app, alice.token, { q: 'from:' + alice.username + ' leaves' }))).toEqual([])
  })
})

describe('indexing messages from before search', () => {
  it('indexes them in the background after start; health shows the progress; search finds them', async () => {
    const dir = tempDir()
    const ENCRYPTION_KEY = Fernet.generateKey()
    const first = await buildTestApp({ SEARCH_BACKFILL_BATCH: '3', ENCRYPTION_KEY }, dir)
    const user = await registerUser(first.app)
    // Stored without tokens, as an import (or a database from before search) has them.
    const author = { id: user.id, username: user.username }
    await first.app.searchIndex.backfilled
    await first.app.storage.messages.insertBatch(Array.from({ length: 10 }, (_, i) => ({ roomId: 1 + (i % 2), author, body: `archived note number${i}` })))
    const health = async (app: FastifyInstance): Promise<{ indexed: number, total: number }> =>
      (await app.inject({ method: 'GET', url: '/api/health' })).json<{ searchIndex: { indexed: number, total: number } }>().searchIndex
    expect((await search(first.app, user.token, { q: 'archived' })).results).toEqual([])
    // Health counts at most every 2 s; a new count shows the 10 unindexed messages.
    await new Promise((resolve) => setTimeout(resolve, 2100))
    expect(await health(first.app)).toEqual({ indexed: 0, total: 10 })
    await first.app.close()

    const again = await buildTestApp({ DATABASE_URL: first.databaseUrl, SEARCH_BACKFILL_BATCH: '3', ENCRYPTION_KEY }, dir)
    try {
      await again.app.searchIndex.backfilled
      expect(await health(again.app)).toEqual({ indexed: 10, total: 10 })
      const page = await search(again.app, user.token, { q: 'archived number7' })
      expect(bodies(page)).toEqual(['archived note number7'])
    } finally {
      await again.close()
      await first.dropDatabase()
    }
  })
})

describe('SEARCH_INDEX=off', () => {
  it('indexes nothing and answers searches 503', async () => {
    const t = await buildTestApp({ SEARCH_INDEX: 'off' })
    try {
      const user = await registerUser(t.app)
      const sent = await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(user.token), payload: { body: 'not indexed' } })
      expect(sent.statusCode).toBe(201)
      expect(await t.app.storage.search.progress()).toEqual({ indexed: 0, total: 1 })
      const res = await t.app.inject({ method: 'GET', url: '/api/search?q=indexed', headers: bearer(user.token) })
      expect(res.statusCode).toBe(503)
      expect(res.json().error.code).toBe('unavailable')
    } finally {
      await t.close()
    }
  })
})
