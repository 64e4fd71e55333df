// The message lifecycle through the app (API.md "Message lifecycle"): every route, the frames
// each change sends, the rules, hostile requests, and a catch-up that ends where an online client is.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { FernetRing } from '../../src/crypto/fernet.js'
import { bearer, registerUser, selectColumn } from '../helper.js'
import { connect, listeningApp, type Frame, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'
import { makePng, upload } from '../uploads/helpers.js'

type User = Awaited<ReturnType<typeof registerUser>>
type Msg = { id: number, seq: number, body: string, [key: string]: any }

let t: ListeningApp
let alice: User
let bob: User
let carol: User

beforeAll(async () => {
  t = await listeningApp()
  alice = await registerUser(t.app, 'alice')
  bob = await registerUser(t.app, 'bob')
  carol = await registerUser(t.app, 'carol')
})
afterAll(async () => t.close())

const call = async (user: User, method: string, url: string, payload?: unknown) =>
  await t.app.inject({ method: method as 'GET', url, headers: bearer(user.token), ...(payload === undefined ? {} : { payload: payload as object }) })
const send = async (user: User, body: string, extra: Record<string, unknown> = {}, roomId = 1): Promise<Msg> => {
  const res = await call(user, 'POST', `/api/rooms/${roomId}/messages`, { body, ...extra })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().message
}
const joined = async (user: User, roomId = 1): Promise<TestSocket> => {
  const socket = await connect(t.base, user.token)
  await socket.request({ type: 'join', roomId }, 'joined')
  return socket
}
const react = (emoji: string) => encodeURIComponent(emoji)

describe('edit', () => {
  it('the author edits: 200 with editedAt, message_updated to the room, earlier versions kept for the author', async () => {
    const watcher = await joined(bob)
    const m = await send(alice, 'first words')
    const res = await call(alice, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'second words' })
    expect(res.statusCode).toBe(200)
    const edited = res.json().message
    expect(edited).toMatchObject({ id: m.id, body: 'second words', seq: m.seq + 1 })
    expect(edited.editedAt).toMatch(/Z$/)
    const frame = await watcher.waitFor((f) => f.type === 'message_updated' && f.message.id === m.id)
    expect(frame.message).toEqual(edited)
    const edits = await call(alice, 'GET', `/api/rooms/1/messages/${m.id}/edits`)
    expect(edits.json().edits.map((e: { body: string }) => e.body)).toEqual(['first words'])
    await watcher.close()
  })

  it('refuses editing someone else\'s message (403), a tombstone (409), an empty body (400), a missing message (404)', async () => {
    const m = await send(alice, 'mine')
    expect((await call(bob, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'hijacked' })).statusCode).toBe(403)
    expect((await call(bob, 'GET', `/api/rooms/1/messages/${m.id}/edits`)).json().error.code).toBe('forbidden')
    expect((await call(alice, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: '   ' })).statusCode).toBe(400)
    expect((await call(alice, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'x', extra: 1 })).statusCode).toBe(400)
    expect((await call(alice, 'PATCH', `/api/rooms/2/messages/${m.id}`, { body: 'other room' })).json().error.code).toBe('message_not_found')
    expect((await call(alice, 'PATCH', `/api/rooms/999/messages/${m.id}`, { body: 'no room' })).json().error.code).toBe('room_not_found')
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    const res = await call(alice, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'back from the dead' })
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'message_deleted'])
    expect((await call(bob, 'GET', '/api/rooms/1/messages')).json().messages.find((x: Msg) => x.id === m.id).body).toBe('')
  })

  it('EDIT_WINDOW_MINUTES closes editing (403 edit_window_closed) but never deleting', async () => {
    const other = await listeningApp({ EDIT_WINDOW_MINUTES: '1' })
    try {
      const dave = await registerUser(other.app, 'dave')
      const inject = async (method: string, url: string, payload?: object) =>
        await other.app.inject({ method: method as 'GET', url, headers: bearer(dave.token), ...(payload === undefined ? {} : { payload }) })
      const m = (await inject('POST', '/api/rooms/1/messages', { body: 'soon old' })).json().message
      expect((await inject('PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'still fresh' })).statusCode).toBe(200)
      // Only the clock moves on (timers stay real): a minute and a half later.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 90_000 })
      const late = await inject('PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'too late' })
      expect([late.statusCode, late.json().error.code]).toEqual([403, 'edit_window_closed'])
      expect((await inject('DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    } finally {
      vi.useRealTimers()
      await other.close()
    }
  })
})

describe('delete', () => {
  it('leaves a tombstone, 204 twice, frames once; others may not delete (403)', async () => {
    const watcher = await joined(carol)
    const m = await send(alice, 'delete me')
    expect((await call(bob, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(403)
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    const frame = await watcher.waitFor((f) => f.type === 'message_updated' && f.message.id === m.id)
    expect(frame.message).toMatchObject({ body: '', attachment: null, seq: m.seq + 1 })
    expect(frame.message.deletedAt).toMatch(/Z$/)
    await watcher.sync()
    expect(watcher.of('message_updated', (f) => f.message.id === m.id)).toHaveLength(1)
    expect((await call(alice, 'DELETE', '/api/rooms/1/messages/99999999')).json().error.code).toBe('message_not_found')
    await watcher.close()
  })

  it('a moderator deletes someone else\'s message and the audit log says so (without its text); an author\'s own delete is not audited', async () => {
    expect((await call(alice, 'PATCH', `/api/rooms/1/members/${carol.id}`, { role: 'moderator' })).statusCode).toBe(200)
    const m = await send(bob, 'a secret the audit must not keep')
    expect((await call(carol, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    const own = await send(bob, 'mine to delete')
    expect((await call(bob, 'DELETE', `/api/rooms/1/messages/${own.id}`)).statusCode).toBe(204)
    const res = await call(alice, 'GET', '/api/rooms/1/audit')
    const deletes = res.json().entries.filter((e: { action: string }) => e.action === 'message_deleted')
    expect(deletes).toEqual([expect.objectContaining({ actor: { id: carol.id, username: 'carol' }, target: { id: bob.id, username: 'bob' }, messageId: m.id })])
    expect(res.body).not.toContain('secret')
    // A moderator may not delete a higher rank's message.
    const admins = await send(alice, 'from the top')
    expect((await call(carol, 'DELETE', `/api/rooms/1/messages/${admins.id}`)).statusCode).toBe(403)
    expect((await call(alice, 'PATCH', `/api/rooms/1/members/${carol.id}`, { role: 'member' })).statusCode).toBe(200)
  })

  it('a deleted message\'s file and thumbnail answer 404, and no stored token decrypts to its body or edits', async () => {
    const res = await upload(t.app, alice.token, { bytes: await makePng(600, 400), filename: 'private-photo.png' }, { body: 'CAPTION-SECRET' })
    expect(res.statusCode, res.body).toBe(201)
    const m = res.json().message
    await call(alice, 'PATCH', `/api/rooms/1/messages/${m.id}`, { body: 'EDITED-SECRET' })
    const urls = [m.attachment.url, m.attachment.thumbnailUrl].filter(Boolean) as string[]
    expect(urls.length).toBeGreaterThan(0)
    for (const url of urls) expect((await t.app.inject({ url })).statusCode).toBe(200)
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${m.id}`)).statusCode).toBe(204)
    for (const url of urls) expect((await t.app.inject({ url })).statusCode).toBe(404)
    const ring = new FernetRing(t.config.encryptionKeys.map((k) => k))
    const stored = [
      ...await selectColumn(t.config, 'SELECT body FROM messages'),
      ...await selectColumn(t.config, 'SELECT attachment FROM messages WHERE attachment IS NOT NULL'),
      ...await selectColumn(t.config, 'SELECT body FROM message_edits')
    ] as string[]
    for (const token of stored) {
      let text = ''
      try { text = ring.decryptText(token) } catch {}
      expect(text).not.toMatch(/SECRET|private-photo/)
    }
  })
})

describe('reactions', () => {
  it('adds once per user, removes, and frames the room; labels every emoji kind', async () => {
    const watcher = await joined(carol)
    const m = await send(alice, 'react here')
    for (const emoji of ['👍', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '1️⃣', '❤️']) {
      const res = await call(bob, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react(emoji)}`)
      expect(res.statusCode, `${emoji}: ${res.body}`).toBe(200)
    }
    const twice = await call(carol, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react('👍')}`)
    const again = await call(carol, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react('👍')}`)
    expect(again.json().message.seq).toBe(twice.json().message.seq)
    expect(again.json().message.reactions[0]).toEqual({ emoji: '👍', count: 2, userIds: [bob.id, carol.id] })
    const removed = await call(bob, 'DELETE', `/api/rooms/1/messages/${m.id}/reactions/${react('👍')}`)
    expect(removed.json().message.reactions.find((r: { emoji: string }) => r.emoji === '👍')).toEqual({ emoji: '👍', count: 1, userIds: [carol.id] })
    const last = await watcher.waitFor((f) => f.type === 'message_updated' && f.message.seq === removed.json().message.seq)
    expect(last.message.reactions).toEqual(removed.json().message.reactions)
    await watcher.close()
  })

  it('refuses what is not one emoji (400 invalid_emoji), 1,000 emoji at once, and a 51st distinct one (409)', async () => {
    const m = await send(alice, 'hostile reactions')
    for (const bad of ['a', 'hi', '👍👍', '👍'.repeat(10), ' ', '\u200b', '<script>', '%00']) {
      const res = await call(bob, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${encodeURIComponent(bad)}`)
      expect(res.statusCode, bad.slice(0, 10)).toBe(400)
    }
    // 1,000 emoji in one path: refused before routing (414), in the contract's shape, nothing stored.
    const flood = await call(bob, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${encodeURIComponent('👍'.repeat(1000))}`)
    expect([400, 414]).toContain(flood.statusCode)
    expect(flood.json().error.code).toEqual(expect.any(String))
    expect((await call(bob, 'GET', `/api/rooms/1/changes?since=${m.seq - 1}`)).json().messages[0].reactions).toEqual([])
    expect((await call(bob, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/%F0%9F`)).statusCode).toBe(400)
    const emoji = [...Array(50).keys()].map((i) => String.fromCodePoint(0x1F400 + i))
    for (const e of emoji) expect((await call(bob, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react(e)}`)).statusCode).toBe(200)
    const over = await call(carol, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react('🦄')}`)
    expect([over.statusCode, over.json().error.code]).toEqual([409, 'too_many_reactions'])
    expect((await call(carol, 'PUT', `/api/rooms/1/messages/${m.id}/reactions/${react(emoji[0]!)}`)).statusCode).toBe(200)
  })

  it('a missing message, one of another room, a tombstone, a room one may not read: 404, 404, 409, 404; no seq taken', async () => {
    const m = await send(alice, 'in room 1')
    const gone = await send(alice, 'soon gone')
    expect((await call(alice, 'DELETE', `/api/rooms/1/messages/${gone.id}`)).statusCode).toBe(204)
    const secret = (await call(alice, 'POST', '/api/rooms', { name: `secret-${Date.now()}`, visibility: 'private' })).json().room
    const hidden = await send(alice, 'members only', {}, secret.id)
    const before = (await call(bob, 'GET', '/api/rooms/1/changes?since=0&limit=1')).json().lastSeq
    for (const [method, url, status, code] of [
      ['PUT', `/api/rooms/1/messages/999999/reactions/${react('👍')}`, 404, 'message_not_found'],
      ['DELETE', `/api/rooms/1/messages/999999/reactions/${react('👍')}`, 404, 'message_not_found'],
      ['PUT', `/api/rooms/2/messages/${m.id}/reactions/${react('👍')}`, 404, 'message_not_found'],
      ['PUT', `/api/rooms/1/messages/${gone.id}/reactions/${react('👍')}`, 409, 'message_deleted'],
      ['PUT', `/api/rooms/${secret.id}/messages/${hidden.id}/reactions/${react('👍')}`, 404, 'room_not_found']
    ] as const) {
      const res = await call(bob, method, url)
      expect([res.statusCode, res.json().error.code], `${method} ${url}`).toEqual([status, code])
    }
    expect((await call(bob, 'GET', '/api/rooms/1/changes?since=0&limit=1')).json().lastSeq).toBe(before)
  })
})

describe('replies, mentions, pins, around, mute', () => {
  it('a reply quotes its parent (following its edit and delete); replying across rooms or to a tombstone is a 404', async () => {
    const parent = await send(alice, 'the question')
    const reply = await send(bob, 'the answer', { replyTo: parent.id })
    expect(reply.replyTo).toEqual({ id: parent.id, author: { id: alice.id, username: 'alice' }, excerpt: 'the question' })
    await call(alice, 'PATCH', `/api/rooms/1/messages/${parent.id}`, { body: 'the better question' })
    const page = (await call(bob, 'GET', `/api/rooms/1/messages?around=${reply.id}&limit=3`)).json()
    expect(page.messages.find((x: Msg) => x.id === reply.id).replyTo.excerpt).toBe('the better question')
    const other = await send(alice, 'in another room', {}, 2)
    const across = await call(bob, 'POST', '/api/rooms/1/messages', { body: 'sneaky', replyTo: other.id })
    expect([across.statusCode, across.json().error.code]).toEqual([404, 'message_not_found'])
    await call(alice, 'DELETE', `/api/rooms/1/messages/${parent.id}`)
    expect((await call(bob, 'POST', '/api/rooms/1/messages', { body: 'late', replyTo: parent.id })).statusCode).toBe(404)
    const ws = await joined(bob)
    const refused = await ws.request({ type: 'message', roomId: 1, body: 'ws reply', clientId: 'r1', replyTo: parent.id }, 'error')
    expect(refused).toMatchObject({ code: 'message_not_found', clientId: 'r1' })
    await ws.close()
  })

  it('mentions: resolved, framed to every socket of the mentioned user (joined or not), counted until read, not hidden by mute', async () => {
    const bobSocket = await connect(t.base, bob.token) // not joined to any room
    expect((await call(bob, 'PUT', '/api/rooms/3/mute')).statusCode).toBe(204)
    const m = await send(alice, 'hey @BOB and @nobody_here and mail@bob.com', {}, 3)
    expect(m.mentions).toEqual([{ id: bob.id, username: 'bob' }])
    const frame = await bobSocket.waitFor((f) => f.type === 'mention')
    expect(frame.message.id).toBe(m.id)
    const rooms = (await call(bob, 'GET', '/api/rooms')).json().rooms
    expect(rooms.find((r: { id: number }) => r.id === 3)).toMatchObject({ mentionCount: 1, muted: true })
    expect(rooms.find((r: { id: number }) => r.id === 2)).toMatchObject({ mentionCount: 0, muted: false })
    // An edit that adds a mention tells only the newly mentioned.
    const carolSocket = await connect(t.base, carol.token)
    await call(alice, 'PATCH', `/api/rooms/3/messages/${m.id}`, { body: '@bob and @carol' })
    await carolSocket.waitFor((f) => f.type === 'mention' && f.message.id === m.id)
    await bobSocket.sync()
    expect(bobSocket.of('mention')).toHaveLength(1)
    bobSocket.send({ type: 'read', roomId: 3, messageId: m.id })
    await bobSocket.sync()
    expect((await call(bob, 'GET', '/api/rooms')).json().rooms.find((r: { id: number }) => r.id === 3).mentionCount).toBe(0)
    expect((await call(bob, 'DELETE', '/api/rooms/3/mute')).statusCode).toBe(204)
    expect((await call(bob, 'PUT', '/api/rooms/999/mute')).statusCode).toBe(404)
    await bobSocket.close()
    await carolSocket.close()
  })

  it('pins: members may not (403); a server administrator may; listed most recent first', async () => {
    const m = await send(bob, 'pin me')
    const res = await call(bob, 'PUT', `/api/rooms/1/pins/${m.id}`)
    expect([res.statusCode, res.json().error.code]).toEqual([403, 'forbidden'])
    // alice registered first: a server administrator, an owner of every public room.
    const pinned = (await call(alice, 'PUT', `/api/rooms/1/pins/${m.id}`)).json().message
    expect(pinned.pinned).toMatchObject({ by: { id: alice.id } })
    expect((await call(bob, 'GET', '/api/rooms/1/pins')).json().messages.map((x: Msg) => x.id)).toContain(m.id)
    const audit = (await call(alice, 'GET', '/api/rooms/1/audit')).json().entries
    expect(audit[0]).toMatchObject({ action: 'pinned', actor: { id: alice.id }, target: { id: bob.id }, messageId: m.id })
    expect((await call(alice, 'DELETE', `/api/rooms/1/pins/${m.id}`)).json().message.pinned).toBeNull()
    expect((await call(alice, 'GET', '/api/rooms/1/audit')).json().entries[0]).toMatchObject({ action: 'unpinned', messageId: m.id })
    expect((await call(bob, 'GET', '/api/rooms/999/pins')).statusCode).toBe(404)
  })

  it('around= centres a page; a missing id is a 404; around with before is a 400', async () => {
    const ids: number[] = []
    for (let i = 0; i < 7; i++) ids.push((await send(alice, `around ${i}`, {}, 2)).id)
    const page = (await call(bob, 'GET', `/api/rooms/2/messages?around=${ids[3]}&limit=3`)).json()
    expect(page.messages.map((x: Msg) => x.id)).toEqual([ids[2], ids[3], ids[4]])
    expect(page).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true })
    expect((await call(bob, 'GET', '/api/rooms/2/messages?around=99999999')).json().error.code).toBe('message_not_found')
    expect((await call(bob, 'GET', `/api/rooms/2/messages?around=${ids[3]}&before=${ids[4]}`)).statusCode).toBe(400)
  })

  it('receipts list sharing users; PATCH /api/me turns sharing off', async () => {
    const m = await send(alice, 'receipt')
    const ws = await joined(bob)
    ws.send({ type: 'read', roomId: 1, messageId: m.id })
    await ws.sync()
    const receipts = (await call(alice, 'GET', '/api/rooms/1/receipts')).json().receipts
    expect(receipts.find((r: { user: { id: number } }) => r.user.id === bob.id)).toMatchObject({ lastReadId: m.id })
    const me = await call(bob, 'PATCH', '/api/me', { shareReadReceipts: false })
    expect(me.json().user).toMatchObject({ id: bob.id, shareReadReceipts: false })
    expect((await call(bob, 'PATCH', '/api/me', { shareReadReceipts: 'no' })).statusCode).toBe(400)
    expect((await call(alice, 'GET', '/api/rooms/1/receipts')).json().receipts.some((r: { user: { id: number } }) => r.user.id === bob.id)).toBe(false)
    // Public rooms send no receipt frames.
    await ws.sync()
    expect(ws.of('receipt')).toHaveLength(0)
    await call(bob, 'PATCH', '/api/me', { shareReadReceipts: true })
    await ws.close()
  })

  it('in a private room, members joined to it get receipt frames: at once, then at most one per user every 2 s with the latest marker; none from who opted out', async () => {
    const room = (await call(alice, 'POST', '/api/rooms', { name: `receipts-${Date.now()}`, visibility: 'private' })).json().room
    expect((await call(alice, 'POST', `/api/rooms/${room.id}/members`, { userId: bob.id })).statusCode).toBe(201)
    const ids: number[] = []
    for (let i = 0; i < 3; i++) ids.push((await send(alice, `to be read ${i}`, {}, room.id)).id)
    const watcher = await joined(alice, room.id)
    const reader = await joined(bob, room.id)
    reader.send({ type: 'read', roomId: room.id, messageId: ids[0] })
    const first = await watcher.waitFor((f) => f.type === 'receipt')
    expect(first).toEqual({ type: 'receipt', roomId: room.id, user: { id: bob.id, username: 'bob' }, lastReadId: ids[0] })
    reader.send({ type: 'read', roomId: room.id, messageId: ids[1] })
    reader.send({ type: 'read', roomId: room.id, messageId: ids[2] })
    await reader.sync()
    await watcher.sync()
    expect(watcher.of('receipt')).toHaveLength(1) // coalesced: the window is still open
    const trailing = await watcher.waitFor((f) => f.type === 'receipt' && f.lastReadId === ids[2], { timeoutMs: 4000 })
    expect(trailing.user.id).toBe(bob.id)
    expect(watcher.of('receipt')).toHaveLength(2) // ids[1] was never sent on its own: the latest won
    // Opted out: nothing more, and not listed.
    await call(bob, 'PATCH', '/api/me', { shareReadReceipts: false })
    const more = await send(alice, 'after opting out', {}, room.id)
    reader.send({ type: 'read', roomId: room.id, messageId: more.id })
    await reader.sync()
    await new Promise((resolve) => setTimeout(resolve, 2300))
    await watcher.sync()
    expect(watcher.of('receipt')).toHaveLength(2)
    expect((await call(alice, 'GET', `/api/rooms/${room.id}/receipts`)).json().receipts).toEqual([])
    await call(bob, 'PATCH', '/api/me', { shareReadReceipts: true })
    await watcher.close()
    await reader.close()
  }, 15_000)
})

describe('catch-up', () => {
  it('changes?since= pages in seq order; stale or bad since is handled', async () => {
    const res = await call(bob, 'GET', '/api/rooms/1/changes?since=0&limit=2')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.messages).toHaveLength(2)
    expect(body.messages[0].seq).toBeLessThan(body.messages[1].seq)
    expect(body.hasMore).toBe(true)
    const future = (await call(bob, 'GET', `/api/rooms/1/changes?since=${body.lastSeq + 100}`)).json()
    expect(future).toMatchObject({ messages: [], hasMore: false })
    for (const bad of ['since=-1', 'since=abc', '', 'since=0&limit=501', 'since=0&limit=0']) {
      expect((await call(bob, 'GET', `/api/rooms/1/changes?${bad}`)).statusCode, bad).toBe(400)
    }
    expect((await call(bob, 'GET', '/api/rooms/999/changes?since=0')).statusCode).toBe(404)
  })

  it('a client offline during 100 mixed changes catches up to exactly what an online client holds', async () => {
    const roomId = 3
    const online = await joined(carol, roomId)
    const start = (await call(bob, 'GET', `/api/rooms/${roomId}`)).json().room.lastSeq as number
    // What the offline client held before it went away.
    const offline = new Map<number, Msg>()
    for (const m of (await call(bob, 'GET', `/api/rooms/${roomId}/messages?limit=100`)).json().messages as Msg[]) offline.set(m.id, m)
    const onlineState = new Map<number, Msg>(offline)
    const ids: number[] = []
    let changes = 0
    let n = 0
    while (changes < 100) {
      const kind = n++ % 5
      if (kind === 0 || ids.length < 3) {
        ids.push((await send(alice, `msg ${n}`, {}, roomId)).id)
      } else {
        const id = ids[(n * 7) % ids.length]!
        const url = `/api/rooms/${roomId}/messages/${id}`
        const res = kind === 1
          ? await call(alice, 'PATCH', url, { body: `edit ${n}` })
          : kind === 2
            ? await call(bob, 'PUT', `${url}/reactions/${react(['👍', '🎉', '😀'][n % 3]!)}`)
            : kind === 3
              ? await call(carol, 'DELETE', `${url}/reactions/${react('👍')}`)
              : n % 3 === 0 ? await call(alice, 'DELETE', url) : await call(bob, 'PUT', `${url}/reactions/${react('🔥')}`)
        if (res.statusCode >= 400 && res.statusCode !== 409) throw new Error(res.body)
      }
      changes++
    }
    const last = (await call(bob, 'GET', `/api/rooms/${roomId}`)).json().room.lastSeq as number
    await online.waitFor((f) => (f.type === 'message' || f.type === 'message_updated') && f.message.seq === last, { timeoutMs: 10_000 })
    // The online client applies frames by seq: newer wins.
    for (const f of online.frames as Frame[]) {
      if (f.type !== 'message' && f.type !== 'message_updated') continue
      const held = onlineState.get(f.message.id)
      if (held === undefined || held.seq < f.message.seq) onlineState.set(f.message.id, f.message)
    }
    // The offline client catches up in pages of 7.
    let since = start
    let pages = 0
    for (;;) {
      const page = (await call(bob, 'GET', `/api/rooms/${roomId}/changes?since=${since}&limit=7`)).json()
      pages++
      for (const m of page.messages as Msg[]) {
        const held = offline.get(m.id)
        if (held === undefined || held.seq < m.seq) offline.set(m.id, m)
      }
      since = page.messages.at(-1)?.seq ?? since
      if (!page.hasMore) break
    }
    expect(pages).toBeGreaterThan(1)
    expect(since).toBe(last)
    const sorted = (map: Map<number, Msg>) => [...map.values()].sort((a, b) => a.id - b.id)
    expect(sorted(offline)).toEqual(sorted(onlineState))
    expect(sorted(offline).some((m) => m.deletedAt !== null)).toBe(true)
    expect(sorted(offline).some((m) => m.editedAt !== null)).toBe(true)
    expect(sorted(offline).some((m) => m.reactions.length > 0)).toBe(true)
    await online.close()
  })
})
