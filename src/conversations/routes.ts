// Direct messages, finding people, members, roles, bans and the audit log (API.md
// "Conversations" and "Moderation"). Each decision is asked of policy.ts; access.ts decides who
// may see the room at all. Every change commits with its audit entry, then is told: `removed`
// to the person who lost the room, `member` to those who see its members, `room` to a new member.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, errors } from '../errors.js'
import type { RemovalReason } from '../events.js'
import { RoomForCaller } from '../rooms/schemas.js'
import { AuthorSchema, authErrors, ErrorResponse, MemberSchema, RoomParams } from '../schemas.js'
import { whenUnlocked, type Room, type User } from '../storage/index.js'
import { roomAccess, type RoomAccess } from './access.js'
import { memberAudience, roomAudience } from './audience.js'
import { can, canSetRole, canViewMembers, effectiveRole, type Role } from './policy.js'
import { AddMemberBody, AuditEntrySchema, AuditQuery, BanBody, BanSchema, DmBody, MemberParams, MemberResponse, RoleBody, UsersQuery } from './schemas.js'

const perUser = (request: FastifyRequest): string => `user:${request.user.id}`
const e404 = { 404: ErrorResponse }
const e403 = { 403: ErrorResponse }

const conversationRoutes: FastifyPluginAsyncZod = async (app) => {
  const { storage, config, events } = app
  const committed = async <T>(write: () => Promise<T>): Promise<T> => whenUnlocked(write, config.lockWaitMs)
  app.addHook('onRequest', app.authenticate)

  /** The person acted on, and the rank they hold in this room (a server administrator outranks all but owners). */
  async function target (access: RoomAccess, userId: number): Promise<{ user: User, stored: Role | null, banned: boolean, rank: Role }> {
    const user = await storage.users.findById(userId)
    if (user === null) throw errors.userNotFound()
    const standing = await storage.members.standing(access.room.id, userId)
    const rank = effectiveRole(access.room.kind, { role: standing.role, banned: false, isAdmin: user.isAdmin }) ?? 'member'
    return { user, stored: standing.role, banned: standing.banned, rank }
  }

  /** Tells the room's people that someone's membership changed, and the person that they lost the room. */
  async function told (room: Room, userId: number, change: 'removed' | 'banned', reason: RemovalReason): Promise<void> {
    events.emit('removed', room.id, userId, reason)
    const audience = await roomAudience(storage, room)
    events.emit('conversation', { type: 'member', roomId: room.id, member: null, userId, change }, { ...audience, roomId: room.id, everyone: false })
  }

  app.post('/api/dms', {
    config: {
      rateLimit: config.roomsPerHour > 0
        ? { max: config.roomsPerHour * 10, timeWindow: '1 hour', hook: 'preHandler', keyGenerator: perUser }
        : false
    },
    schema: {
      tags: ['conversations'],
      summary: 'Open the DM with these people (201 when new, 200 with the same room when it exists)',
      body: DmBody,
      response: { 200: z.object({ room: RoomForCaller }), 201: z.object({ room: RoomForCaller }), 400: ErrorResponse, ...e404, 429: ErrorResponse, ...authErrors }
    }
  }, async (request, reply) => {
    const me = request.user.id
    const others = request.body.userIds
    if (others.includes(me)) throw errors.validation('A DM is with other people: leave yourself out of userIds (you are added).')
    const found = await storage.users.authors(others)
    if (found.length !== others.length) throw errors.userNotFound('No user has one of those ids.')
    const { room, created } = await committed(() => storage.rooms.dm(me, [me, ...others]))
    if (created) events.emit('conversation', { type: 'room', room }, await roomAudience(storage, room))
    return reply.code(created ? 201 : 200).send({ room: { ...room, myRole: 'member' as const } })
  })

  app.get('/api/users', {
    config: { rateLimit: { max: 300, timeWindow: '1 minute', hook: 'preHandler', keyGenerator: perUser } },
    schema: {
      tags: ['conversations'],
      summary: 'Find people: usernames starting with q (case-insensitive), by name',
      querystring: UsersQuery,
      response: { 200: z.object({ users: z.array(AuthorSchema) }), 400: ErrorResponse, 429: ErrorResponse, ...authErrors }
    }
  }, async (request) => ({ users: await storage.users.search(request.query.q, request.query.limit) }))

  app.get('/api/rooms/:roomId/members', {
    schema: {
      tags: ['conversations'],
      summary: 'The members with their roles (in a public room: those holding a role above member)',
      params: RoomParams,
      response: { 200: z.object({ members: z.array(MemberSchema) }), ...e403, ...e404, ...authErrors }
    }
  }, async (request) => {
    const { room, role } = await roomAccess(storage, request.user, request.params.roomId)
    if (!canViewMembers(role)) throw errors.roomNotFound()
    return { members: await storage.members.list(room.id, room.kind === 'public') }
  })

  app.post('/api/rooms/:roomId/members', {
    schema: {
      tags: ['conversations'],
      summary: 'Add someone (admins and up); their sockets get a `room` frame',
      params: RoomParams,
      body: AddMemberBody,
      response: { 201: MemberResponse, 400: ErrorResponse, ...e403, ...e404, 409: ErrorResponse, ...authErrors }
    }
  }, async (request, reply) => {
    const access = await roomAccess(storage, request.user, request.params.roomId)
    const { room, role } = access
    const { userId, role: to } = request.body
    if (!can(room.kind, role, 'addMember')) throw errors.forbidden(room.kind === 'dm' ? 'Nobody is added to a DM: start a new one with everyone in it.' : 'Only the room’s admins and owner may add members.')
    if (to !== 'member' && (to === 'owner' || !canSetRole(room.kind, role, 'member', to))) throw errors.forbidden(`You may not make someone ${to}.`)
    const who = await target(access, userId)
    if (who.stored !== null) throw new AppError('already_member')
    if (who.banned) throw errors.forbidden('That person is banned from this room: unban them first.')
    const member = await committed(() => storage.members.add(room.id, userId, to, { roomId: room.id, action: 'member_added', actorId: request.user.id, targetId: userId }))
    if (member === null) throw new AppError('already_member')
    events.emit('conversation', { type: 'room', room }, { userIds: [userId] })
    events.emit('conversation', { type: 'member', roomId: room.id, member, userId, change: 'added' }, await memberAudience(storage, room, userId))
    return reply.code(201).send({ member })
  })

  app.patch('/api/rooms/:roomId/members/:userId', {
    schema: {
      tags: ['conversations'],
      summary: 'Change someone’s role; `owner` hands ownership over (you become admin)',
      params: MemberParams,
      body: RoleBody,
      response: { 200: MemberResponse, 400: ErrorResponse, ...e403, ...e404, ...authErrors }
    }
  }, async (request) => {
    const access = await roomAccess(storage, request.user, request.params.roomId)
    const { room, role, memberRole } = access
    const { userId } = request.params
    const to = request.body.role
    if (userId === request.user.id) throw errors.forbidden('You may not change your own role.')
    const who = await target(access, userId)
    if (room.kind !== 'public' && who.stored === null) throw errors.userNotFound('That person is not a member of this room.')
    if (who.banned) throw errors.forbidden('That person is banned from this room.')
    if (!canSetRole(room.kind, role, who.rank, to)) throw errors.forbidden(`You may not make this person ${to}.`)
    const audit = { roomId: room.id, action: 'role_changed' as const, actorId: request.user.id, targetId: userId, reason: to }
    let member
    if (to === 'owner' && memberRole === 'owner') {
      // A hand-over: the room keeps one owner, and the caller steps down to admin.
      await committed(() => storage.members.transfer(room.id, request.user.id, userId, audit))
      member = (await storage.members.get(room.id, userId))!
      const me = await storage.members.get(room.id, request.user.id)
      if (me !== null) events.emit('conversation', { type: 'member', roomId: room.id, member: me, userId: me.user.id, change: 'role' }, await memberAudience(storage, room, me.user.id))
    } else {
      member = await committed(() => storage.members.setRole(room.id, userId, to, audit))
    }
    events.emit('conversation', { type: 'member', roomId: room.id, member, userId, change: 'role' }, await memberAudience(storage, room, userId))
    return { member }
  })

  app.delete('/api/rooms/:roomId/members/:userId', {
    schema: {
      tags: ['conversations'],
      summary: 'Leave (yourself; an owner hands over first) or kick someone (moderators and up)',
      params: MemberParams,
      response: { 204: z.null(), ...e403, ...e404, 409: ErrorResponse, ...authErrors }
    }
  }, async (request, reply) => {
    const access = await roomAccess(storage, request.user, request.params.roomId)
    const { room, role, memberRole } = access
    const { userId } = request.params
    const self = userId === request.user.id
    if (room.kind === 'dm') throw errors.forbidden('Nobody leaves or is removed from a DM.')
    let reason: RemovalReason
    if (self) {
      if (memberRole === 'owner' && await storage.members.owners(room.id) <= 1) throw new AppError('owner_must_transfer')
      reason = 'left'
    } else {
      const who = await target(access, userId)
      if (room.kind !== 'public' && who.stored === null) throw errors.userNotFound('That person is not a member of this room.')
      if (!can(room.kind, role, 'kick', who.rank)) throw errors.forbidden('You may not remove this person.')
      reason = 'kicked'
    }
    const entry = { roomId: room.id, action: 'member_removed' as const, actorId: request.user.id, targetId: userId, reason }
    // A public room's bystander holds no membership row, yet a kick still unsubscribes them, and is recorded.
    if (!await committed(() => storage.members.remove(room.id, userId, entry)) && !self) await committed(() => storage.audit.add(entry))
    await told(room, userId, 'removed', reason)
    return reply.code(204).send(null)
  })

  app.put('/api/rooms/:roomId/bans/:userId', {
    schema: {
      tags: ['conversations'],
      summary: 'Ban someone (admins and up): they lose the room at once and may not come back',
      params: MemberParams,
      body: BanBody,
      response: { 204: z.null(), 400: ErrorResponse, ...e403, ...e404, ...authErrors }
    }
  }, async (request, reply) => {
    const access = await roomAccess(storage, request.user, request.params.roomId)
    const { room, role } = access
    const { userId } = request.params
    if (userId === request.user.id) throw errors.forbidden('You may not ban yourself; leave the room instead.')
    const who = await target(access, userId)
    if (!can(room.kind, role, 'ban', who.rank)) throw errors.forbidden('You may not ban this person.')
    const reason = request.body?.reason === undefined || request.body.reason === '' ? null : request.body.reason
    await committed(() => storage.bans.ban(room.id, userId, request.user.id, reason, { roomId: room.id, action: 'banned', actorId: request.user.id, targetId: userId, reason }))
    await told(room, userId, 'banned', 'banned')
    return reply.code(204).send(null)
  })

  app.delete('/api/rooms/:roomId/bans/:userId', {
    schema: {
      tags: ['conversations'],
      summary: 'Lift a ban (admins and up)',
      params: MemberParams,
      response: { 204: z.null(), ...e403, ...e404, ...authErrors }
    }
  }, async (request, reply) => {
    const access = await roomAccess(storage, request.user, request.params.roomId)
    const { room, role } = access
    const { userId } = request.params
    const who = await target(access, userId)
    if (!can(room.kind, role, 'unban', who.rank)) throw errors.forbidden('You may not lift this ban.')
    if (!who.banned) throw errors.notFound('That person is not banned from this room.')
    await committed(() => storage.bans.unban(room.id, userId, { roomId: room.id, action: 'unbanned', actorId: request.user.id, targetId: userId }))
    return reply.code(204).send(null)
  })

  app.get('/api/rooms/:roomId/bans', {
    schema: { tags: ['conversations'], summary: 'Who is banned, by whom and why (moderators and up)', params: RoomParams, response: { 200: z.object({ bans: z.array(BanSchema) }), ...e403, ...e404, ...authErrors } }
  }, async (request) => {
    const { room, role } = await roomAccess(storage, request.user, request.params.roomId)
    if (!can(room.kind, role, 'viewBans')) throw errors.forbidden('Only the room’s moderators and up may see its bans.')
    return { bans: await storage.bans.list(room.id) }
  })

  app.get('/api/rooms/:roomId/audit', {
    schema: {
      tags: ['conversations'],
      summary: 'The room’s audit log, newest first (admins and up)',
      params: RoomParams,
      querystring: AuditQuery,
      response: { 200: z.object({ entries: z.array(AuditEntrySchema) }), 400: ErrorResponse, ...e403, ...e404, ...authErrors }
    }
  }, async (request) => {
    const { room, role } = await roomAccess(storage, request.user, request.params.roomId)
    if (!can(room.kind, role, 'readAudit')) throw errors.forbidden('Only the room’s admins and owner may read its audit log.')
    return { entries: await storage.audit.list(room.id, request.query) }
  })
}

export default conversationRoutes
