// The lifecycle half of the Store contract, on both stores: every change takes the room's next
// seq, deletes destroy, reactions count once and stop at 50 emoji, replies follow their parent,
// mentions count after the read marker, mutes and receipts.
import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { MessageDeletedError, MessageMissingError, TooManyReactionsError } from '../../src/storage/lifecycle-shape.js'
import { openStorage, RoomMissingError, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import { createTestSchema } from '../pg-helper.js'
import { tempDir } from '../helper.js'

interface Opened {
  store: Store
  /** Every stored text value that could be a token (bodies, earlier versions), straight from the database. */
  tokens: () => Promise<string[]>
  /** The raw bytes of the database file(s) (SQLite only; null on PostgreSQL). */
  bytes: () => Buffer | null
}

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })
const TOKENS = "SELECT body FROM messages UNION ALL SELECT body FROM message_edits UNION ALL SELECT coalesce(attachment, '') FROM messages"

const stores: Record<'sqlite' | 'postgres', (key: string) => Promise<Opened>> = {
  async sqlite (key) {
    const path = join(tempDir(), 'chat.db')
    const store = openStorage(path, new FernetRing([key]))
    cleanups.push(async () => store.close())
    return {
      store,
      async tokens () {
        const db = new Database(path, { readonly: true })
        try { return db.prepare(TOKENS).pluck().all() as string[] } finally { db.close() }
      },
      bytes: () => Buffer.concat([readFileSync(path), readFileSync(`${path}-wal`, { flag: 'a+' })])
    }
  },
  async postgres (key) {
    const schema = await createTestSchema()
    cleanups.push(schema.drop)
    const store = await openPgStore(schema.url, new FernetRing([key]), { max: 4 })
    cleanups.push(async () => store.close())
    return {
      store,
      tokens: async () => (await schema.sql.unsafe(TOKENS).values()).map((r) => r[0] as string),
      bytes: () => null
    }
  }
}

describe.each(['sqlite', 'postgres'] as const)('Lifecycle store: %s', (dialect) => {
  const open = async () => {
    const key = Fernet.generateKey()
    const opened = await stores[dialect](key)
    const alice = (await opened.store.users.create(`alice_${dialect}`, 'x'))!
    const bob = (await opened.store.users.create(`bob_${dialect}`, 'x'))!
    const send = async (body: string, extra: { replyTo?: number, roomId?: number } = {}) =>
      (await opened.store.messages.insert({ roomId: extra.roomId ?? 1, author: alice, body, replyTo: extra.replyTo ?? null })).message
    return { ...opened, alice, bob, send, ring: new FernetRing([key]) }
  }

  it('gives every change the room\'s next seq, and none to a change that changes nothing', async () => {
    const { store, bob, send } = await open()
    const m = await send('hello')
    expect(m.seq).toBe(1)
    expect(m).toMatchObject({ editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null })
    const edited = await store.lifecycle.edit(1, m.id, 'hello there', [bob])
    expect(edited.changed).toBe(true)
    expect(edited.message).toMatchObject({ body: 'hello there', seq: 2, mentions: [{ id: bob.id, username: bob.username }] })
    expect(edited.message.editedAt).not.toBeNull()
    expect((await store.lifecycle.react(1, m.id, bob.id, '👍')).message.seq).toBe(3)
    const again = await store.lifecycle.react(1, m.id, bob.id, '👍')
    expect(again.changed).toBe(false)
    expect(again.message.seq).toBe(3)
    expect(again.message.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }])
    expect((await store.lifecycle.pin(1, m.id, bob.id)).message.pinned).toMatchObject({ by: { id: bob.id } })
    expect((await store.lifecycle.unpin(1, m.id)).message).toMatchObject({ pinned: null, seq: 5 })
    expect((await store.lifecycle.unpin(1, m.id)).changed).toBe(false)
    expect((await store.rooms.get(1))!.lastSeq).toBe(5)
    // Another room's counter is its own.
    expect((await send('elsewhere', { roomId: 2 })).seq).toBe(1)
    const changes = await store.lifecycle.changes(1, 0, 200)
    expect(changes).toMatchObject({ lastSeq: 5, hasMore: false })
    expect(changes.messages.map((x) => [x.id, x.seq])).toEqual([[m.id, 5]])
    expect((await store.messages.history(1, { limit: 50 })).messages[0]).toEqual(changes.messages[0])
  })

  it('keeps earlier versions encrypted, oldest first', async () => {
    const { store, send, tokens } = await open()
    const m = await send('version one')
    await store.lifecycle.edit(1, m.id, 'version two', [])
    await store.lifecycle.edit(1, m.id, 'version three', [])
    const edits = await store.lifecycle.edits(1, m.id)
    expect(edits.map((e) => e.body)).toEqual(['version one', 'version two'])
    for (const value of await tokens()) expect(value).not.toMatch(/version/)
    await expect(store.lifecycle.edits(2, m.id)).rejects.toBeInstanceOf(MessageMissingError)
  })

  it('destroys a deleted message: no token left decrypts to its body, versions or name; reactions, mentions and files go', async () => {
    const { store, alice, bob, tokens, ring, bytes } = await open()
    await store.media.add([{ name: 'f'.repeat(32) + '.png', mime: 'image/png', originalName: 'secret-plan.png', size: 1, uploaderId: alice.id }])
    const m = (await store.messages.insert({ roomId: 1, author: alice, body: 'SECRET-ALPHA', attachment: { url: '/media/x', name: 'secret-plan.png', mime: 'image/png', size: 1, kind: 'image' }, mentions: [bob] })).message
    await store.media.link(m.id, ['f'.repeat(32) + '.png'])
    await store.lifecycle.edit(1, m.id, 'SECRET-BETA', [bob])
    await store.lifecycle.react(1, m.id, bob.id, '🎉')
    await store.lifecycle.pin(1, m.id, bob.id)
    const secretTokens = (await tokens()).filter((value) => {
      try { return /SECRET|secret-plan/.test(ring.decryptText(value)) } catch { return false }
    })
    expect(secretTokens).toHaveLength(3) // the body, its earlier version and the attachment
    const removed = await store.lifecycle.remove(1, m.id)
    expect(removed.changed).toBe(true)
    expect(removed.files).toEqual(['f'.repeat(32) + '.png'])
    expect(removed.message).toMatchObject({ body: '', attachment: null, reactions: [], mentions: [], pinned: null, seq: 5 })
    expect(removed.message.deletedAt).not.toBeNull()
    expect(await store.media.get('f'.repeat(32) + '.png')).toBeNull()
    expect(await store.lifecycle.edits(1, m.id)).toEqual([])
    for (const value of await tokens()) {
      let text = ''
      try { text = ring.decryptText(value) } catch {}
      expect(text).not.toMatch(/SECRET/)
    }
    const again = await store.lifecycle.remove(1, m.id)
    expect(again).toMatchObject({ changed: false, files: [] })
    expect(again.message.seq).toBe(5)
    await expect(store.lifecycle.edit(1, m.id, 'back', [])).rejects.toBeInstanceOf(MessageDeletedError)
    await expect(store.lifecycle.react(1, m.id, bob.id, '👍')).rejects.toBeInstanceOf(MessageDeletedError)
    await expect(store.lifecycle.pin(1, m.id, bob.id)).rejects.toBeInstanceOf(MessageDeletedError)
    expect((await store.lifecycle.roomStates(bob.id)).get(1)?.mentionCount ?? 0).toBe(0)
    // SQLite: secure_delete zeroes the freed cells, and the WAL is checkpointed and truncated soon
    // after, so no byte of the file or its log still holds the tokens.
    if (dialect === 'sqlite') {
      await new Promise((resolve) => setTimeout(resolve, 1300))
      const raw = bytes()!
      for (const token of secretTokens) expect(raw.includes(Buffer.from(token))).toBe(false)
    }
  })

  it('replies carry the parent\'s excerpt, which follows its edits and deletion; a reply to another room or a tombstone fails', async () => {
    const { store, alice, send } = await open()
    const parent = await send('p'.repeat(150))
    const reply = await send('answer', { replyTo: parent.id })
    expect(reply.replyTo).toEqual({ id: parent.id, author: { id: alice.id, username: alice.username }, excerpt: 'p'.repeat(100) })
    await store.lifecycle.edit(1, parent.id, 'changed', [])
    expect((await store.lifecycle.get(1, reply.id))!.replyTo!.excerpt).toBe('changed')
    await store.lifecycle.remove(1, parent.id)
    expect((await store.lifecycle.get(1, reply.id))!.replyTo).toEqual({ id: parent.id, author: { id: alice.id, username: alice.username }, excerpt: '' })
    await expect(send('to a tombstone', { replyTo: parent.id })).rejects.toBeInstanceOf(MessageDeletedError)
    const other = await send('in room 2', { roomId: 2 })
    await expect(send('across rooms', { replyTo: other.id })).rejects.toBeInstanceOf(MessageMissingError)
    expect((await store.rooms.get(1))!.lastSeq).toBe(4) // the refused replies took no seq
  })

  it('counts an emoji once per user, in order of first use, and refuses a 51st distinct one', async () => {
    const { store, alice, bob, send } = await open()
    const m = await send('react to me')
    await store.lifecycle.react(1, m.id, bob.id, '🎉')
    await store.lifecycle.react(1, m.id, alice.id, '👍')
    const both = await store.lifecycle.react(1, m.id, alice.id, '🎉')
    expect(both.message.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [bob.id, alice.id] }, { emoji: '👍', count: 1, userIds: [alice.id] }])
    // Order of first use among the reactions still there: alice's 👍 came before her 🎉.
    expect((await store.lifecycle.unreact(1, m.id, bob.id, '🎉')).message.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [alice.id] }, { emoji: '🎉', count: 1, userIds: [alice.id] }])
    expect((await store.lifecycle.unreact(1, m.id, bob.id, '🎉')).changed).toBe(false)
    const flags = [...Array(48).keys()].map((i) => String.fromCodePoint(0x1F600 + i))
    for (const emoji of flags) await store.lifecycle.react(1, m.id, bob.id, emoji)
    await expect(store.lifecycle.react(1, m.id, bob.id, '🦄')).rejects.toBeInstanceOf(TooManyReactionsError)
    // An emoji already there is still welcome.
    expect((await store.lifecycle.react(1, m.id, bob.id, '👍')).changed).toBe(true)
  })

  it('writes.batch: sends and changes in one transaction, in the order queued, each failing alone', async () => {
    const { store, alice, bob, send } = await open()
    const kept = await send('kept') // seq 1
    const gone = await send('gone') // seq 2
    const other = await send('in room 2', { roomId: 2 }) // room 2, seq 1
    await store.lifecycle.remove(1, gone.id) // seq 3
    const results = await store.writes.batch([
      { change: { kind: 'react', roomId: 1, messageId: kept.id, userId: bob.id, emoji: '👍' } },
      { send: { roomId: 1, author: alice, body: 'between' } },
      { change: { kind: 'react', roomId: 1, messageId: gone.id, userId: bob.id, emoji: '👍' } },
      { change: { kind: 'edit', roomId: 1, messageId: other.id, body: 'wrong room', mentions: [] } },
      { send: { roomId: 424242, author: alice, body: 'nowhere' } },
      { send: { roomId: 1, author: bob, body: 'to a tombstone', replyTo: gone.id } },
      { change: { kind: 'edit', roomId: 1, messageId: kept.id, body: 'kept, edited', mentions: [bob] } },
      { change: { kind: 'react', roomId: 1, messageId: kept.id, userId: bob.id, emoji: '👍' } },
      { change: { kind: 'remove', roomId: 2, messageId: other.id } },
      { change: { kind: 'pin', roomId: 1, messageId: kept.id, byUserId: alice.id } }
    ])
    expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false, false, true, true, true, true])
    const errorOf = (i: number): unknown => { const r = results[i]!; return r.ok ? null : r.error }
    expect(errorOf(2)).toBeInstanceOf(MessageDeletedError)
    expect(errorOf(3)).toBeInstanceOf(MessageMissingError)
    expect(errorOf(4)).toBeInstanceOf(RoomMissingError)
    expect(errorOf(5)).toBeInstanceOf(MessageDeletedError)
    const value = (i: number) => { const r = results[i]!; if (!r.ok) throw r.error; return r.value }
    const changed = (i: number) => { const v = value(i); if (!('changed' in v)) throw new Error('not a change'); return v.changed }
    const sent = (i: number) => { const v = value(i); if (!('sent' in v)) throw new Error('not a send'); return v.sent }
    // Room 1's next seqs, in the order queued: the send between two changes takes the one between theirs.
    expect(changed(0)).toMatchObject({ changed: true, files: [], message: { id: kept.id, seq: 4 } })
    expect(sent(1)).toMatchObject({ created: true, message: { body: 'between', seq: 5 } })
    expect(changed(6)).toMatchObject({ changed: true, message: { id: kept.id, body: 'kept, edited', seq: 6, mentions: [{ id: bob.id }] } })
    // The same reaction again changes nothing and takes no seq.
    expect(changed(7)).toMatchObject({ changed: false, message: { seq: 6 } })
    expect(changed(8)).toMatchObject({ changed: true, files: [], message: { id: other.id, body: '', seq: 2 } })
    expect(changed(9)).toMatchObject({ changed: true, message: { id: kept.id, seq: 7, pinned: { by: { id: alice.id } } } })
    expect((await store.rooms.get(1))!.lastSeq).toBe(7)
    expect((await store.rooms.get(2))!.lastSeq).toBe(2)
    // What failed left nothing behind; what committed reads back as each answer said.
    expect((await store.lifecycle.get(1, gone.id))!.reactions).toEqual([])
    const feed = await store.lifecycle.changes(1, 3, 50)
    expect(feed.messages.map((m) => [m.body, m.seq])).toEqual([['between', 5], ['kept, edited', 7]])
    expect(feed.messages[1]!.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }])
    expect((await store.messages.history(1, { limit: 50 })).messages.map((m) => m.body)).toEqual(['kept, edited', '', 'between'])
    expect(await store.writes.batch([])).toEqual([])
  })

  it('pins most recent first, pages around a message, and counts mentions after the marker; mutes', async () => {
    const { store, alice, bob, send } = await open()
    const ids: number[] = []
    for (let i = 0; i < 9; i++) ids.push((await send(`m${i}`)).id)
    await store.lifecycle.pin(1, ids[2]!, alice.id)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await store.lifecycle.pin(1, ids[5]!, alice.id)
    expect((await store.lifecycle.pins(1)).map((m) => m.id)).toEqual([ids[5], ids[2]])
    const page = (await store.lifecycle.around(1, ids[4]!, 3))!
    expect(page.messages.map((m) => m.body)).toEqual(['m3', 'm4', 'm5'])
    expect(page).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true })
    const edge = (await store.lifecycle.around(1, ids[0]!, 4))!
    expect(edge.messages.map((m) => m.body)).toEqual(['m0', 'm1', 'm2', 'm3'])
    expect(edge.hasMoreBefore).toBe(false)
    expect(await store.lifecycle.around(2, ids[0]!, 4)).toBeNull()

    const first = (await store.messages.insert({ roomId: 1, author: alice, body: '@bob one', mentions: [bob] })).message
    await store.messages.insert({ roomId: 1, author: alice, body: '@bob two', mentions: [bob] })
    expect((await store.lifecycle.roomStates(bob.id)).get(1)).toEqual({ mentionCount: 2, muted: false })
    await store.reads.markRead(bob.id, 1, first.id)
    await store.lifecycle.setMuted(bob.id, 1, true)
    await store.lifecycle.setMuted(bob.id, 3, true)
    const states = await store.lifecycle.roomStates(bob.id)
    expect(states.get(1)).toEqual({ mentionCount: 1, muted: true })
    expect(states.get(3)).toEqual({ mentionCount: 0, muted: true })
    await store.lifecycle.setMuted(bob.id, 3, false)
    expect((await store.lifecycle.roomStates(bob.id)).has(3)).toBe(false)
  })

  it('lists receipts of users who share them, and remembers the choice', async () => {
    const { store, alice, bob, send } = await open()
    const m = await send('read me')
    await store.reads.markRead(bob.id, 1, m.id)
    await store.reads.markRead(alice.id, 1, m.id)
    expect(await store.lifecycle.readMarker(bob.id, 1)).toBe(m.id)
    expect(await store.lifecycle.readMarker(bob.id, 2)).toBeNull()
    expect((await store.lifecycle.receipts(1)).map((r) => r.user.id).sort()).toEqual([alice.id, bob.id].sort())
    expect(await store.lifecycle.sharesReadReceipts(bob.id)).toBe(true)
    await store.lifecycle.setShareReadReceipts(bob.id, false)
    expect(await store.lifecycle.sharesReadReceipts(bob.id)).toBe(false)
    const receipts = await store.lifecycle.receipts(1)
    expect(receipts).toEqual([{ user: { id: alice.id, username: alice.username }, lastReadId: m.id, at: expect.stringMatching(/Z$/) }])
  })
})
