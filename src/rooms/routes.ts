// GET/POST /api/rooms, GET/PATCH /api/rooms/:roomId. Every room answer passes the access gate
// (src/conversations/access.ts): a private room the caller may not read is a missing room.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { roomAccess } from '../conversations/access.js'
import { roomAudience } from '../conversations/audience.js'
import { can } from '../conversations/policy.js'
import { errors } from '../errors.js'
import { authErrors, ErrorResponse, RoomParams } from '../schemas.js'
import { whenUnlocked } from '../storage/index.js'
import { roomListJson } from './list-json.js'
import { CreateRoomBody, RoomForCaller, RoomWithReadState, UpdateRoomBody } from './schemas.js'

const perUser = (request: FastifyRequest): string => `user:${request.user.id}`

const roomRoutes: FastifyPluginAsyncZod = async (app) => {
  const { storage, config } = app
  app.addHook('onRequest', app.authenticate)

  app.get('/api/rooms', {
    // The schema documents the answer; list-json.ts writes it (thousands of rooms: checking each
    // against the schema on the way out, or even JSON.stringify over them, cost more than reading them).
    schema: { tags: ['rooms'], summary: 'The rooms you may read (public ones and yours), by name, with your unread counts and role', response: { 200: z.object({ rooms: z.array(RoomWithReadState) }), ...authErrors } }
  }, async (request, reply) => {
    // Mentions and mutes come from the lifecycle's own query and are merged in as the JSON is written.
    const [rooms, states] = await Promise.all([storage.rooms.listing(request.user.id, request.user.isAdmin), storage.lifecycle.roomStates(request.user.id)])
    return reply.type('application/json; charset=utf-8').send(roomListJson(rooms, states) as never)
  })

  app.post('/api/rooms', {
    // Per user, after authentication: every new public room reaches every connected user.
    config: {
      rateLimit: config.roomsPerHour > 0
        ? { max: config.roomsPerHour, timeWindow: '1 hour', hook: 'preHandler', keyGenerator: perUser }
        : false
    },
    schema: { tags: ['rooms'], summary: 'Create a public or private room; you are its owner', body: CreateRoomBody, response: { 201: z.object({ room: RoomForCaller }), 400: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, ...authErrors } }
  }, async (request, reply) => {
    const { name, topic, visibility } = request.body
    const room = await whenUnlocked(() => storage.rooms.create(name, topic, request.user.id, visibility), config.lockWaitMs)
    if (room === null) throw errors.roomExists()
    app.events.emit('conversation', { type: 'room', room }, await roomAudience(storage, room))
    return reply.code(201).send({ room: { ...room, myRole: 'owner' as const } })
  })

  app.get('/api/rooms/:roomId', {
    schema: { tags: ['rooms'], summary: 'One room', params: RoomParams, response: { 200: z.object({ room: RoomForCaller }), 403: ErrorResponse, 404: ErrorResponse, ...authErrors } }
  }, async (request) => {
    const { room, role } = await roomAccess(storage, request.user, request.params.roomId)
    return { room: { ...room, myRole: role } }
  })

  app.patch('/api/rooms/:roomId', {
    schema: {
      tags: ['rooms'],
      summary: 'Rename, change the topic (admins and up), archive or unarchive (owners)',
      params: RoomParams,
      body: UpdateRoomBody,
      response: { 200: z.object({ room: RoomForCaller }), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, ...authErrors }
    }
  }, async (request) => {
    const { room, role } = await roomAccess(storage, request.user, request.params.roomId)
    const patch = request.body
    if ((patch.name !== undefined || patch.topic !== undefined) && !can(room.kind, role, 'editRoom')) {
      throw errors.forbidden('Only the room’s admins and owner may rename it or change its topic.')
    }
    if (patch.archived !== undefined && !can(room.kind, role, 'archive')) throw errors.forbidden('Only the room’s owner may archive it.')
    const updated = await whenUnlocked(() => storage.rooms.update(room.id, patch, { roomId: room.id, action: 'room_updated', actorId: request.user.id }), config.lockWaitMs)
    if (updated === null) throw errors.roomExists()
    app.events.emit('conversation', { type: 'room_updated', room: updated }, await roomAudience(storage, updated))
    return { room: { ...updated, myRole: role } }
  })
}

export default roomRoutes
