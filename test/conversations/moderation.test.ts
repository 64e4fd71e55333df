// The Moderation table through the real routes: every action × every actor role × every target
// rank, against an independent statement of the rules; then the hostile cases (rooms you are not
// in, escalation, the last owner, banning yourself, DMs with yourself or ten people).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, registerUser, uniqueName, type TestApp } from '../helper.js'

let t: TestApp
let admin: Awaited<ReturnType<typeof registerUser>>
beforeAll(async () => {
  t = await buildTestApp()
  admin = await registerUser(t.app, uniqueName('root')) // the first account: a server administrator
})
afterAll(async () => t.close())

type Role = 'owner' | 'admin' | 'moderator' | 'member'
const ROLES: Role[] = ['member', 'moderator', 'admin', 'owner']
const level: Record<Role, number> = { member: 1, moderator: 2, admin: 3, owner: 4 }

const call = async (token: string, method: string, url: string, payload?: unknown) =>
  t.app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as object }) })

async function privateRoom (ownerToken: string): Promise<number> {
  const res = await call(ownerToken, 'POST', '/api/rooms', { name: uniqueName('p'), visibility: 'private' })
  expect(res.statusCode).toBe(201)
  return res.json().room.id
}

/** A private room where `actor` holds `actorRole` and `target` holds `targetRole` (the owner is someone else unless one of them is owner). */
async function scene (actorRole: Role, targetRole: Role) {
  const owner = await registerUser(t.app)
  const actor = await registerUser(t.app)
  const target = await registerUser(t.app)
  // An owning actor created the room (so a hand-over leaves exactly one owner).
  const roomId = await privateRoom(actorRole === 'owner' ? actor.token : owner.token)
  for (const [who, role] of [[actor, actorRole], [target, targetRole]] as const) {
    await t.app.storage.members.setRole(roomId, who.id, role, { roomId, action: 'role_changed', actorId: owner.id, targetId: who.id })
  }
  return { owner, actor, target, roomId }
}

describe.each(ROLES)('an actor holding %s', (actorRole) => {
  for (const targetRole of ROLES) {
    const outranks = level[actorRole] > level[targetRole]
    it(`kicks a ${targetRole}: ${outranks && level[actorRole] >= 2 ? 'yes' : 'no'}`, async () => {
      const { actor, target, roomId } = await scene(actorRole, targetRole)
      const res = await call(actor.token, 'DELETE', `/api/rooms/${roomId}/members/${target.id}`)
      const allowed = outranks && level[actorRole] >= level.moderator
      expect(res.statusCode).toBe(allowed ? 204 : 403)
      expect(await t.app.storage.members.get(roomId, target.id)).toEqual(allowed ? null : expect.objectContaining({ role: targetRole }))
    })

    it(`bans a ${targetRole}: ${outranks && level[actorRole] >= 3 ? 'yes' : 'no'}`, async () => {
      const { actor, target, roomId } = await scene(actorRole, targetRole)
      const res = await call(actor.token, 'PUT', `/api/rooms/${roomId}/bans/${target.id}`, { reason: 'spam' })
      const allowed = outranks && level[actorRole] >= level.admin
      expect(res.statusCode).toBe(allowed ? 204 : 403)
      expect((await t.app.storage.members.standing(roomId, target.id)).banned).toBe(allowed)
      if (allowed) {
        // Lifting it needs the same rank.
        expect((await call(actor.token, 'DELETE', `/api/rooms/${roomId}/bans/${target.id}`)).statusCode).toBe(204)
        expect((await call(actor.token, 'DELETE', `/api/rooms/${roomId}/bans/${target.id}`)).statusCode).toBe(404)
      }
    })

    for (const to of ROLES) {
      const allowed = outranks && ((to === 'owner' || to === 'admin') ? actorRole === 'owner' : level[actorRole] >= level.admin)
      it(`makes a ${targetRole} ${to}: ${allowed ? 'yes' : 'no'}`, async () => {
        const { actor, target, roomId } = await scene(actorRole, targetRole)
        const res = await call(actor.token, 'PATCH', `/api/rooms/${roomId}/members/${target.id}`, { role: to })
        expect(res.statusCode).toBe(allowed ? 200 : 403)
        const stored = await t.app.storage.members.get(roomId, target.id)
        expect(stored?.role).toBe(allowed ? to : targetRole)
        if (allowed && to === 'owner') {
          // A hand-over: the caller steps down to admin, and the room keeps one owner.
          expect((await t.app.storage.members.get(roomId, actor.id))?.role).toBe('admin')
          expect(await t.app.storage.members.owners(roomId)).toBe(1)
        }
      })
    }
  }

  it('room actions: members, bans, audit, rename, archive, add', async () => {
    const { actor, roomId } = await scene(actorRole, 'member')
    const outsider = await registerUser(t.app)
    const at = level[actorRole]
    expect((await call(actor.token, 'GET', `/api/rooms/${roomId}/members`)).statusCode).toBe(200)
    expect((await call(actor.token, 'GET', `/api/rooms/${roomId}/bans`)).statusCode).toBe(at >= 2 ? 200 : 403)
    expect((await call(actor.token, 'GET', `/api/rooms/${roomId}/audit`)).statusCode).toBe(at >= 3 ? 200 : 403)
    expect((await call(actor.token, 'PATCH', `/api/rooms/${roomId}`, { topic: 'new topic' })).statusCode).toBe(at >= 3 ? 200 : 403)
    expect((await call(actor.token, 'POST', `/api/rooms/${roomId}/members`, { userId: outsider.id })).statusCode).toBe(at >= 3 ? 201 : 403)
    expect((await call(actor.token, 'PATCH', `/api/rooms/${roomId}`, { archived: true })).statusCode).toBe(at >= 4 ? 200 : 403)
  })
})

describe('hostile and edge cases', () => {
  it('a room you are not in: every moderation route answers as for a missing room', async () => {
    const owner = await registerUser(t.app)
    const eve = await registerUser(t.app)
    const roomId = await privateRoom(owner.token)
    for (const [method, path, body] of [
      ['GET', 'members'], ['POST', 'members', { userId: eve.id }], ['PATCH', `members/${eve.id}`, { role: 'owner' }],
      ['DELETE', `members/${owner.id}`], ['PUT', `bans/${owner.id}`, {}], ['DELETE', `bans/${owner.id}`], ['GET', 'bans'], ['GET', 'audit']
    ] as const) {
      const real = await call(eve.token, method, `/api/rooms/${roomId}/${path}`, body)
      const missing = await call(eve.token, method, `/api/rooms/999999/${path}`, body)
      expect([method, path, real.statusCode, real.json()]).toEqual([method, path, 404, missing.json()])
    }
    expect((await call(eve.token, 'PATCH', `/api/rooms/${roomId}`, { name: 'mine' })).json()).toEqual((await call(eve.token, 'PATCH', '/api/rooms/999999', { name: 'mine' })).json())
  })

  it('no escalation: nobody changes their own role, a moderator cannot make admins, an admin cannot make owners', async () => {
    const { actor: mod, roomId } = await scene('moderator', 'member')
    expect((await call(mod.token, 'PATCH', `/api/rooms/${roomId}/members/${mod.id}`, { role: 'admin' })).statusCode).toBe(403)
    const { actor: adm, target, roomId: r2 } = await scene('admin', 'member')
    expect((await call(adm.token, 'PATCH', `/api/rooms/${r2}/members/${adm.id}`, { role: 'owner' })).statusCode).toBe(403)
    expect((await call(adm.token, 'PATCH', `/api/rooms/${r2}/members/${target.id}`, { role: 'owner' })).statusCode).toBe(403)
    expect((await call(adm.token, 'POST', `/api/rooms/${r2}/members`, { userId: (await registerUser(t.app)).id, role: 'admin' })).statusCode).toBe(403)
    expect((await t.app.storage.members.get(r2, adm.id))?.role).toBe('admin')
  })

  it('the last owner may not leave (409 owner_must_transfer); after a hand-over they may', async () => {
    const { owner, actor, roomId } = await scene('admin', 'member')
    const res = await call(owner.token, 'DELETE', `/api/rooms/${roomId}/members/${owner.id}`)
    expect(res.statusCode).toBe(409)
    expect(res.json().error.code).toBe('owner_must_transfer')
    expect((await call(owner.token, 'PATCH', `/api/rooms/${roomId}/members/${actor.id}`, { role: 'owner' })).statusCode).toBe(200)
    expect((await call(owner.token, 'DELETE', `/api/rooms/${roomId}/members/${owner.id}`)).statusCode).toBe(204)
    expect((await call(owner.token, 'GET', `/api/rooms/${roomId}`)).statusCode).toBe(404) // gone from a private room
    const entries = (await call(actor.token, 'GET', `/api/rooms/${roomId}/audit`)).json().entries
    expect(entries[0]).toMatchObject({ action: 'member_removed', actor: { id: owner.id }, target: { id: owner.id }, reason: 'left' })
  })

  it('banning yourself is refused; so is adding a member twice or someone who does not exist', async () => {
    const { owner, actor, roomId } = await scene('admin', 'member')
    expect((await call(owner.token, 'PUT', `/api/rooms/${roomId}/bans/${owner.id}`, {})).statusCode).toBe(403)
    const twice = await call(owner.token, 'POST', `/api/rooms/${roomId}/members`, { userId: actor.id })
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'already_member'])
    const nobody = await call(owner.token, 'POST', `/api/rooms/${roomId}/members`, { userId: 987654 })
    expect([nobody.statusCode, nobody.json().error.code]).toEqual([404, 'user_not_found'])
    expect((await call(owner.token, 'POST', `/api/rooms/${roomId}/members`, { userId: actor.id, extra: 1 })).statusCode).toBe(400)
  })

  it('DMs: 2–9 people, never with yourself, the same set gives the same room; nobody moderates one or reads it from outside', async () => {
    const me = await registerUser(t.app)
    const others = await Promise.all(Array.from({ length: 9 }, async () => registerUser(t.app)))
    const ids = others.map((o) => o.id)
    expect((await call(me.token, 'POST', '/api/dms', { userIds: [me.id] })).statusCode).toBe(400)
    expect((await call(me.token, 'POST', '/api/dms', { userIds: [ids[0], me.id] })).statusCode).toBe(400)
    expect((await call(me.token, 'POST', '/api/dms', { userIds: ids })).statusCode).toBe(400) // 10 people
    expect((await call(me.token, 'POST', '/api/dms', { userIds: [] })).statusCode).toBe(400)
    expect((await call(me.token, 'POST', '/api/dms', { userIds: [ids[0], ids[0]] })).statusCode).toBe(400)
    expect((await call(me.token, 'POST', '/api/dms', { userIds: [987654] })).json().error.code).toBe('user_not_found')
    const nine = await call(me.token, 'POST', '/api/dms', { userIds: ids.slice(0, 8) })
    expect(nine.statusCode).toBe(201)
    expect(nine.json().room.members).toHaveLength(9)
    const first = await call(me.token, 'POST', '/api/dms', { userIds: [ids[0]] })
    expect(first.statusCode).toBe(201)
    const again = await call(others[0]!.token, 'POST', '/api/dms', { userIds: [me.id] })
    expect([again.statusCode, again.json().room.id]).toEqual([200, first.json().room.id])
    const dmId = first.json().room.id
    expect(first.json().room).toMatchObject({ kind: 'dm', myRole: 'member', members: expect.arrayContaining([{ id: me.id, username: me.username }]) })
    expect((await call(me.token, 'DELETE', `/api/rooms/${dmId}/members/${ids[0]}`)).statusCode).toBe(403)
    expect((await call(me.token, 'DELETE', `/api/rooms/${dmId}/members/${me.id}`)).statusCode).toBe(403)
    expect((await call(me.token, 'PATCH', `/api/rooms/${dmId}`, { archived: true })).statusCode).toBe(403)
    expect((await call(me.token, 'POST', `/api/rooms/${dmId}/members`, { userId: ids[5] })).statusCode).toBe(403)
    // A server administrator outside the DM gets what a missing room gets.
    expect((await call(admin.token, 'GET', `/api/rooms/${dmId}/messages`)).json()).toEqual((await call(admin.token, 'GET', '/api/rooms/999999/messages')).json())
    expect((await call(admin.token, 'PUT', `/api/rooms/${dmId}/bans/${me.id}`, {})).statusCode).toBe(404)
  })

  it('server administrators run the seeded rooms and moderate private rooms they are not in; others may not', async () => {
    const user = await registerUser(t.app)
    expect((await call(user.token, 'PATCH', '/api/rooms/3', { topic: 'hijacked' })).statusCode).toBe(403)
    expect((await call(admin.token, 'PATCH', '/api/rooms/3', { topic: 'Support, by the admins' })).json().room).toMatchObject({ topic: 'Support, by the admins', myRole: 'owner' })
    const { owner, target, roomId } = await scene('member', 'member')
    expect((await call(admin.token, 'GET', `/api/rooms/${roomId}/audit`)).statusCode).toBe(200)
    expect((await call(admin.token, 'DELETE', `/api/rooms/${roomId}/members/${target.id}`)).statusCode).toBe(204)
    // An owner cannot act on a server administrator (they rank as owners).
    expect((await call(owner.token, 'PUT', `/api/rooms/${roomId}/bans/${admin.id}`, {})).statusCode).toBe(403)
    const me = await call(admin.token, 'GET', '/api/me')
    expect(me.json().user.isAdmin).toBe(true)
    expect((await call(admin.token, 'GET', '/api/rooms')).json().rooms.map((r: { id: number }) => r.id)).toContain(roomId)
  })

  it('a ban in a public room: 403 banned on read and send, the room leaves their list; the audit log never holds message text', async () => {
    const mod = await registerUser(t.app)
    const user = await registerUser(t.app)
    const room = (await call(mod.token, 'POST', '/api/rooms', { name: uniqueName('pub') })).json().room
    await call(user.token, 'POST', `/api/rooms/${room.id}/messages`, { body: 'secret words here' })
    expect((await call(mod.token, 'PUT', `/api/rooms/${room.id}/bans/${user.id}`, { reason: 'rude' })).statusCode).toBe(204)
    for (const [method, url, body] of [['GET', `/api/rooms/${room.id}/messages`], ['POST', `/api/rooms/${room.id}/messages`, { body: 'hi' }], ['GET', `/api/rooms/${room.id}`]] as const) {
      const res = await call(user.token, method, url, body)
      expect([res.statusCode, res.json().error.code]).toEqual([403, 'banned'])
    }
    expect((await call(user.token, 'GET', '/api/rooms')).json().rooms.map((r: { id: number }) => r.id)).not.toContain(room.id)
    const bans = (await call(mod.token, 'GET', `/api/rooms/${room.id}/bans`)).json().bans
    expect(bans).toEqual([{ user: { id: user.id, username: user.username }, by: { id: mod.id, username: mod.username }, reason: 'rude', at: expect.any(String) }])
    const audit = await call(mod.token, 'GET', `/api/rooms/${room.id}/audit?limit=5`)
    expect(audit.json().entries[0]).toMatchObject({ action: 'banned', reason: 'rude', target: { id: user.id } })
    expect(audit.body).not.toContain('secret words')
    // A kick of a public room's bystander (no membership row) is recorded too.
    const bystander = await registerUser(t.app)
    expect((await call(mod.token, 'DELETE', `/api/rooms/${room.id}/members/${bystander.id}`)).statusCode).toBe(204)
    expect((await call(mod.token, 'GET', `/api/rooms/${room.id}/audit`)).json().entries[0]).toMatchObject({ action: 'member_removed', target: { id: bystander.id }, reason: 'kicked' })
    expect((await call(mod.token, 'GET', `/api/rooms/${room.id}/audit?limit=101`)).statusCode).toBe(400)
  })

  it('archived rooms stay readable and refuse sends (REST and uploads) with 403 room_archived; unarchiving opens them again', async () => {
    const owner = await registerUser(t.app)
    const room = (await call(owner.token, 'POST', '/api/rooms', { name: uniqueName('arch') })).json().room
    await call(owner.token, 'POST', `/api/rooms/${room.id}/messages`, { body: 'before' })
    const archived = await call(owner.token, 'PATCH', `/api/rooms/${room.id}`, { archived: true })
    expect(archived.json().room.archived).toBe(true)
    const send = await call(owner.token, 'POST', `/api/rooms/${room.id}/messages`, { body: 'after' })
    expect([send.statusCode, send.json().error.code]).toEqual([403, 'room_archived'])
    const boundary = 'x-boundary'
    const upload = await t.app.inject({
      method: 'POST', url: `/api/rooms/${room.id}/uploads`, headers: { ...bearer(owner.token), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`
    })
    expect([upload.statusCode, upload.json().error.code]).toEqual([403, 'room_archived'])
    expect((await call(owner.token, 'GET', `/api/rooms/${room.id}/messages`)).json().messages.map((m: { body: string }) => m.body)).toEqual(['before'])
    expect((await call(owner.token, 'PATCH', `/api/rooms/${room.id}`, { archived: false })).statusCode).toBe(200)
    expect((await call(owner.token, 'POST', `/api/rooms/${room.id}/messages`, { body: 'after' })).statusCode).toBe(201)
    expect((await call(owner.token, 'PATCH', `/api/rooms/${room.id}`, {})).statusCode).toBe(400)
    expect((await call(owner.token, 'PATCH', `/api/rooms/${room.id}`, { name: 'General' })).json().error.code).toBe('room_exists')
  })

  it('finding people: prefix, case-insensitive, bounded; q is required', async () => {
    const prefix = uniqueName('Find')
    const a = await registerUser(t.app, `${prefix}a`)
    await registerUser(t.app, `${prefix}b`)
    const res = await call(a.token, 'GET', `/api/users?q=${prefix.toLowerCase()}&limit=1`)
    expect(res.json()).toEqual({ users: [{ id: a.id, username: a.username }] })
    expect((await call(a.token, 'GET', `/api/users?q=${prefix.toUpperCase()}`)).json().users).toHaveLength(2)
    expect((await call(a.token, 'GET', '/api/users')).statusCode).toBe(400)
    expect((await call(a.token, 'GET', '/api/users?q=a&limit=51')).statusCode).toBe(400)
    expect((await t.app.inject({ url: '/api/users?q=a' })).statusCode).toBe(401)
  })
})
