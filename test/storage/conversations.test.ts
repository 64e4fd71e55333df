// The conversation part of the Store contract (members, roles, bans, the audit log, DMs, room
// visibility, administrators), run against both stores: SQLite on a temp file and PostgreSQL in a
// fresh schema. Same calls, same answers.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openStorage, RoomArchivedError, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import { createTestSchema } from '../pg-helper.js'
import { tempDir } from '../helper.js'

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

const stores: Record<'sqlite' | 'postgres', () => Promise<Store>> = {
  async sqlite () {
    const store = openStorage(join(tempDir(), 'chat.db'), new FernetRing([Fernet.generateKey()]))
    cleanups.push(async () => store.close())
    return store
  },
  async postgres () {
    const schema = await createTestSchema()
    cleanups.push(schema.drop)
    const store = await openPgStore(schema.url, new FernetRing([Fernet.generateKey()]), { max: 4 })
    cleanups.push(async () => store.close())
    return store
  }
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe.each(['sqlite', 'postgres'] as const)('Conversations store: %s', (dialect) => {
  async function people (store: Store, ...names: string[]) {
    const out = []
    for (const name of names) out.push((await store.users.create(name, 'h'))!)
    return out
  }

  it('the first account is an administrator; setAdmin grants and revokes by name, whatever its case', async () => {
    const store = await stores[dialect]()
    const [ada, bo] = await people(store, 'ada', 'bo')
    expect([ada!.isAdmin, bo!.isAdmin]).toEqual([true, false])
    expect((await store.users.setAdmin('BO', true))?.isAdmin).toBe(true)
    expect((await store.users.findById(bo!.id))?.isAdmin).toBe(true)
    expect((await store.users.setAdmin('ada', false))?.isAdmin).toBe(false)
    expect(await store.users.setAdmin('nobody', true)).toBeNull()
  })

  it('search: prefix without regard to case, wildcards taken literally, by name, bounded', async () => {
    const store = await stores[dialect]()
    await people(store, 'Mallory', 'mal_x', 'malcolm', 'amal', 'malXa')
    expect((await store.users.search('MAL', 10)).map((u) => u.username)).toEqual(['mal_x', 'malcolm', 'Mallory', 'malXa'])
    expect((await store.users.search('mal_', 10)).map((u) => u.username)).toEqual(['mal_x'])
    expect((await store.users.search('%', 10))).toEqual([])
    expect(await store.users.search('mal', 2)).toHaveLength(2)
    const ids = (await store.users.search('ma', 50)).map((u) => u.id)
    expect((await store.users.authors([...ids, 9999])).map((u) => u.id).sort()).toEqual([...ids].sort())
  })

  it('a new room has its creator as owner; private rooms are listed only for members and administrators', async () => {
    const store = await stores[dialect]()
    const [admin, alice, bob] = await people(store, 'admin', 'alice', 'bob')
    const secret = (await store.rooms.create('Secret', 'shh', alice!.id, 'private'))!
    expect(secret).toMatchObject({ kind: 'private', archived: false })
    expect(await store.members.get(secret.id, alice!.id)).toEqual({ user: { id: alice!.id, username: 'alice' }, role: 'owner', joinedAt: expect.stringMatching(ISO) })
    const names = async (id: number, isAdmin = false) => (await store.rooms.listFor(id, isAdmin)).map((r) => r.name)
    expect(await names(alice!.id)).toEqual(['Development', 'General', 'Secret', 'Support'])
    expect(await names(bob!.id)).toEqual(['Development', 'General', 'Support'])
    expect(await names(admin!.id, true)).toEqual(['Development', 'General', 'Secret', 'Support'])
    expect(await store.rooms.readableIds(bob!.id)).toEqual([1, 2, 3])
    const mine = (await store.rooms.listFor(alice!.id)).find((r) => r.id === secret.id)!
    expect(mine).toMatchObject({ myRole: 'owner', unreadCount: 0, lastReadId: null })
    expect((await store.rooms.listFor(bob!.id))[0]!.myRole).toBe('member')
    expect((await store.rooms.listFor(admin!.id, true))[0]!.myRole).toBe('owner')
  })

  it('DMs: the same set of people gets the same room, in any order; listed for them only, with members', async () => {
    const store = await stores[dialect]()
    const [a, b, c] = await people(store, 'zed', 'amy', 'bea')
    const first = await store.rooms.dm(a!.id, [a!.id, b!.id])
    expect(first.created).toBe(true)
    expect(first.room).toMatchObject({ kind: 'dm', name: '', members: [{ id: b!.id, username: 'amy' }, { id: a!.id, username: 'zed' }] })
    const again = await store.rooms.dm(b!.id, [b!.id, a!.id])
    expect(again).toEqual({ room: first.room, created: false })
    const group = await store.rooms.dm(a!.id, [a!.id, b!.id, c!.id])
    expect(group.created).toBe(true)
    expect(group.room.id).not.toBe(first.room.id)
    expect((await store.rooms.listFor(c!.id)).filter((r) => r.kind === 'dm').map((r) => r.id)).toEqual([group.room.id])
    expect((await store.rooms.listFor(a!.id, true)).filter((r) => r.kind === 'dm')).toHaveLength(2)
    // An administrator outside a DM does not see it.
    const [other] = await people(store, 'outsider')
    expect((await store.rooms.listFor(other!.id, true)).filter((r) => r.kind === 'dm')).toEqual([])
    expect((await store.members.list(first.room.id, false)).map((m) => m.role)).toEqual(['member', 'member'])
    expect(await store.rooms.access(first.room.id, b!.id)).toEqual({ room: first.room, standing: { role: 'member', banned: false } })
  })

  it('members: add once, roles (public rooms too), hand-over, remove; each with its audit entry', async () => {
    const store = await stores[dialect]()
    const [alice, bob, carol] = await people(store, 'alice', 'bob', 'carol')
    const room = (await store.rooms.create('Team', '', alice!.id, 'private'))!
    const audit = (action: 'member_added' | 'role_changed' | 'member_removed', targetId: number, reason?: string) => ({ roomId: room.id, action, actorId: alice!.id, targetId, reason })
    expect((await store.members.add(room.id, bob!.id, 'member', audit('member_added', bob!.id)))?.role).toBe('member')
    expect(await store.members.add(room.id, bob!.id, 'moderator', audit('member_added', bob!.id))).toBeNull()
    expect((await store.members.setRole(room.id, bob!.id, 'moderator', audit('role_changed', bob!.id, 'moderator'))).role).toBe('moderator')
    expect(await store.members.standing(room.id, bob!.id)).toEqual({ role: 'moderator', banned: false })
    expect(await store.members.standing(room.id, carol!.id)).toEqual({ role: null, banned: false })
    // The access gate's one query: the room as rooms.get has it, with the same standing.
    expect(await store.rooms.access(room.id, bob!.id)).toEqual({ room: await store.rooms.get(room.id), standing: { role: 'moderator', banned: false } })
    expect(await store.rooms.access(room.id, carol!.id)).toEqual({ room: await store.rooms.get(room.id), standing: { role: null, banned: false } })
    expect(await store.rooms.access(9999, bob!.id)).toBeNull()
    // A role in a public room makes a member row.
    expect((await store.members.setRole(1, carol!.id, 'moderator', { roomId: 1, action: 'role_changed', actorId: alice!.id, targetId: carol!.id })).role).toBe('moderator')
    expect((await store.members.list(1, true)).map((m) => m.user.username)).toEqual(['carol'])
    await store.members.transfer(room.id, alice!.id, bob!.id, audit('role_changed', bob!.id, 'owner'))
    expect((await store.members.list(room.id, false)).map((m) => [m.user.username, m.role])).toEqual([['bob', 'owner'], ['alice', 'admin']])
    expect(await store.members.owners(room.id)).toBe(1)
    expect(await store.members.userIds(room.id)).toEqual([alice!.id, bob!.id].sort((x, y) => x - y))
    expect(await store.members.remove(room.id, alice!.id, audit('member_removed', alice!.id, 'left'))).toBe(true)
    expect(await store.members.remove(room.id, alice!.id, audit('member_removed', alice!.id, 'left'))).toBe(false)
    const entries = await store.audit.list(room.id, { limit: 10 })
    expect(entries.map((e) => [e.action, e.target?.username, e.reason])).toEqual([
      ['member_removed', 'alice', 'left'], ['role_changed', 'bob', 'owner'], ['role_changed', 'bob', 'moderator'], ['member_added', 'bob', null]
    ])
    expect(entries[0]).toMatchObject({ actor: { id: alice!.id, username: 'alice' }, messageId: null, at: expect.stringMatching(ISO) })
    const older = await store.audit.list(room.id, { before: entries[1]!.id, limit: 1 })
    expect(older.map((e) => e.id)).toEqual([entries[2]!.id])
  })

  it('bans remove the membership, hide a public room from the list, and lift; the audit log keeps both', async () => {
    const store = await stores[dialect]()
    const [alice, bob] = await people(store, 'alice', 'bob')
    await store.members.setRole(1, bob!.id, 'member', { roomId: 1, action: 'role_changed', actorId: alice!.id, targetId: bob!.id })
    await store.bans.ban(1, bob!.id, alice!.id, 'spam', { roomId: 1, action: 'banned', actorId: alice!.id, targetId: bob!.id, reason: 'spam' })
    expect(await store.members.standing(1, bob!.id)).toEqual({ role: null, banned: true })
    expect((await store.rooms.access(1, bob!.id))?.standing).toEqual({ role: null, banned: true })
    expect(await store.bans.list(1)).toEqual([{ user: { id: bob!.id, username: 'bob' }, by: { id: alice!.id, username: 'alice' }, reason: 'spam', at: expect.stringMatching(ISO) }])
    expect(await store.rooms.readableIds(bob!.id)).toEqual([2, 3])
    expect(await store.rooms.readableIds(bob!.id, true)).toEqual([1, 2, 3]) // administrators are never locked out
    expect(await store.bans.unban(1, bob!.id, { roomId: 1, action: 'unbanned', actorId: alice!.id, targetId: bob!.id })).toBe(true)
    expect(await store.bans.unban(1, bob!.id, { roomId: 1, action: 'unbanned', actorId: alice!.id, targetId: bob!.id })).toBe(false)
    expect(await store.bans.list(1)).toEqual([])
    await store.audit.add({ roomId: 1, action: 'message_deleted', actorId: alice!.id, targetId: bob!.id, messageId: 77 })
    expect((await store.audit.list(1, { limit: 10 })).map((e) => [e.action, e.messageId])).toEqual([['message_deleted', 77], ['unbanned', null], ['banned', null], ['role_changed', null]])
  })

  it('rooms.update renames (refusing a taken name), changes the topic and archives; an archived room refuses sends', async () => {
    const store = await stores[dialect]()
    const [alice] = await people(store, 'alice')
    const room = (await store.rooms.create('Plans', '', alice!.id))!
    const entry = { roomId: room.id, action: 'room_updated' as const, actorId: alice!.id }
    expect(await store.rooms.update(room.id, { name: 'general' }, entry)).toBeNull()
    expect(await store.rooms.update(room.id, { name: 'PLANS', topic: 'new' }, entry)).toMatchObject({ name: 'PLANS', topic: 'new' })
    expect(await store.rooms.update(room.id, { archived: true }, entry)).toMatchObject({ archived: true })
    expect((await store.audit.list(room.id, { limit: 10 }))).toHaveLength(2) // the refused rename wrote nothing
    const [result] = await store.messages.insertBatch([{ roomId: room.id, author: alice!, body: 'late' }])
    expect(result).toMatchObject({ ok: false })
    expect(result!.ok ? null : result!.error).toBeInstanceOf(RoomArchivedError)
    await store.rooms.update(room.id, { archived: false }, entry)
    expect((await store.messages.insert({ roomId: room.id, author: alice!, body: 'back' })).created).toBe(true)
  })

  it('media remember the room they were shared in', async () => {
    const store = await stores[dialect]()
    const [alice] = await people(store, 'alice')
    await store.media.add([{ name: 'dddd.pdf', mime: 'application/pdf', originalName: 'd.pdf', size: 1, uploaderId: alice!.id, roomId: 2 }])
    expect((await store.media.get('dddd.pdf'))?.roomId).toBe(2)
  })
})
