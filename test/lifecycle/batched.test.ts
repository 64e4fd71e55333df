// Changes to sent messages go through the group commit that sends use (src/messages/writes.ts):
// what is queued in one turn of the event loop commits in one transaction, and each change still
// gets its own answer, its own seq and its own frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { CHANGES_PER_TURN } from '../../src/messages/writes.js'
import type { Write } from '../../src/storage/store.js'
import { bearer, registerUser } from '../helper.js'
import { connect, listeningApp, type ListeningApp } from '../realtime/ws-client.js'

type User = Awaited<ReturnType<typeof registerUser>>

let t: ListeningApp
let alice: User
let bob: User
/** The writes of each transaction the app's store was asked for, as kinds. */
const batches: string[][] = []

beforeAll(async () => {
  t = await listeningApp()
  alice = await registerUser(t.app, 'alice')
  bob = await registerUser(t.app, 'bob')
  // Watches the batches go by; the store's own batch does the work.
  const writes = t.app.storage.writes
  const batch = writes.batch.bind(writes)
  writes.batch = async (list: readonly Write[]) => {
    batches.push(list.map((w) => ('send' in w ? 'send' : w.change.kind)))
    return await batch(list)
  }
})
afterAll(async () => t.close())

const send = async (user: User, body: string): Promise<{ id: number, seq: number }> => {
  const res = await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(user.token), payload: { body } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().message
}
const author = (user: User) => ({ id: user.id, username: user.username })

describe('changes in the group commit', () => {
  it('a turn\'s changes and send commit together; the one on a tombstone fails alone with message_deleted', async () => {
    const watcher = await connect(t.base, bob.token)
    await watcher.request({ type: 'join', roomId: 1 }, 'joined')
    const liked = await send(alice, 'like me')
    const edited = await send(alice, 'edit me')
    const gone = await send(alice, 'delete me')
    expect((await t.app.inject({ method: 'DELETE', url: `/api/rooms/1/messages/${gone.id}`, headers: bearer(alice.token) })).statusCode).toBe(204)
    await watcher.sync() // the frames of those are in
    const before = (await t.app.storage.rooms.get(1))!.lastSeq
    const from = watcher.frames.length
    batches.length = 0

    // Queued in one turn: nothing is awaited between them.
    const { lifecycle, messageService } = t.app
    const outcomes = await Promise.allSettled([
      lifecycle.react(author(bob), 1, liked.id, '👍', true),
      lifecycle.react(author(bob), 1, gone.id, '👍', true),
      lifecycle.edit(author(alice), 1, edited.id, 'edited in the same turn'),
      messageService.send({ roomId: 1, author: author(alice), body: 'sent in the same turn' })
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    const refusal = (outcomes[1] as PromiseRejectedResult).reason as AppError
    expect(refusal).toBeInstanceOf(AppError)
    expect([refusal.code, refusal.statusCode]).toEqual(['message_deleted', 409])
    const [reacted, , edit, sent] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : null)) as [
      { seq: number, reactions: unknown[] }, null, { seq: number, body: string }, { message: { seq: number } }]
    expect(reacted.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }])
    expect(edit.body).toBe('edited in the same turn')
    // The three that committed took the room's next three seqs, with none lost to the refusal.
    expect([reacted.seq, edit.seq, sent.message.seq].sort((a, b) => a - b)).toEqual([before + 1, before + 2, before + 3])
    expect((await t.app.storage.rooms.get(1))!.lastSeq).toBe(before + 3)
    // On SQLite the lookups before each write answer at once, so all four were queued in that turn
    // and shared one transaction. (On PostgreSQL they may spread over more; the answers are the same.)
    if (t.app.storage.dialect === 'sqlite') expect(batches.map((b) => [...b].sort())).toEqual([['edit', 'react', 'react', 'send']])

    // The room hears each committed one once, in seq order, and nothing of the refused one.
    await watcher.waitFor((f) => f.type === 'message' && f.message.body === 'sent in the same turn', { from })
    await watcher.sync()
    const heard = watcher.frames.slice(from).filter((f) => f.type === 'message' || f.type === 'message_updated')
    expect(heard.map((f) => f.message.seq)).toEqual([before + 1, before + 2, before + 3])
    expect(heard.map((f) => f.message.id).sort()).toEqual([liked.id, edited.id, (sent.message as { id?: number }).id].sort())
    await watcher.close()
  })

  it('a change and a send of the same turn get consecutive seqs, the send\'s first (sends go ahead of changes)', async () => {
    const m = await send(alice, 'react to me')
    const before = (await t.app.storage.rooms.get(1))!.lastSeq
    batches.length = 0
    const [reacted, stored] = await Promise.all([
      t.app.messageWrites.change({ kind: 'react', roomId: 1, messageId: m.id, userId: bob.id, emoji: '🎉' }),
      t.app.messageWrites.send({ roomId: 1, author: author(bob), body: 'queued second' })
    ])
    expect(batches).toEqual([['send', 'react']])
    expect(stored.message.seq).toBe(before + 1)
    expect(reacted).toMatchObject({ changed: true, files: [], message: { id: m.id, seq: before + 2 } })
  })

  it('many changes in one turn each get their own answer and their own seq', async () => {
    const m = await send(alice, 'storm target')
    const before = (await t.app.storage.rooms.get(1))!.lastSeq
    const users = await Promise.all(Array.from({ length: 12 }, async (_, i) => registerUser(t.app, `reactor${i}`)))
    batches.length = 0
    const results = await Promise.all(users.map(async (u) => t.app.lifecycle.react(author(u), 1, m.id, '🔥', true)))
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => before + 1 + i))
    // Each answer is the message as that change left it: one more reaction each time.
    expect(results.map((r) => r.reactions[0]!.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    const last = results.find((r) => r.seq === before + 12)!
    expect(last.reactions[0]!.userIds).toHaveLength(12)
    // At most CHANGES_PER_TURN of them per transaction (and so per turn).
    const sizes = Array.from({ length: Math.ceil(12 / CHANGES_PER_TURN) }, (_, i) => Math.min(CHANGES_PER_TURN, 12 - i * CHANGES_PER_TURN))
    if (t.app.storage.dialect === 'sqlite') expect(batches.map((b) => b.length)).toEqual(sizes)
  })

  it('a send is not held behind a backlog of changes: it commits in the next batch, ahead of them', async () => {
    const m = await send(alice, 'backlog target')
    const before = (await t.app.storage.rooms.get(1))!.lastSeq
    batches.length = 0
    const settled: string[] = []
    const changes = Array.from({ length: 3 * CHANGES_PER_TURN }, (_, i) => t.app.messageWrites
      .change({ kind: i % 2 === 0 ? 'react' : 'unreact', roomId: 1, messageId: m.id, userId: bob.id, emoji: '👀' })
      .then((r) => { settled.push(`change ${r.message.seq}`); return r }))
    const sent = t.app.messageWrites.send({ roomId: 1, author: author(alice), body: 'not behind the storm' })
      .then((r) => { settled.push(`send ${r.message.seq}`); return r })
    await Promise.all([...changes, sent])
    expect(batches.map((b) => b.length)).toEqual([1 + CHANGES_PER_TURN, CHANGES_PER_TURN, CHANGES_PER_TURN])
    expect(batches[0]![0]).toBe('send')
    // The send took the first seq and was answered first; the changes follow in the order queued.
    expect(settled[0]).toBe(`send ${before + 1}`)
    expect(settled.slice(1)).toEqual(Array.from({ length: 3 * CHANGES_PER_TURN }, (_, i) => `change ${before + 2 + i}`))
  })
})
