// GET/POST /api/rooms and GET /api/rooms/:roomId.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errors } from '../errors.js'
import { authErrors, ErrorResponse, RoomParams, RoomSchema } from '../schemas.js'
import { whenUnlocked } from '../storage/index.js'
import { CreateRoomBody, RoomWithReadState } from './schemas.js'

const perUser = (request: FastifyRequest): string => `user:${request.user.id}`

const roomRoutes: FastifyPluginAsyncZod = async (app) => {
  const { storage, config } = app
  app.addHook('onRequest', app.authenticate)

  app.get('/api/rooms', {
    schema: { tags: ['rooms'], summary: 'All rooms, by name, with your unread counts', response: { 200: z.object({ rooms: z.array(RoomWithReadState) }), ...authErrors } },
    // Thousands of rooms, built field by field by the storage layer: checking each against the
    // schema on the way out (zod) would cost more than building them.
    serializerCompiler: () => (data) => JSON.stringify(data)
  }, async (request) => {
    // Mentions and mutes come from the lifecycle's own query and are merged in here.
    const [rooms, states] = await Promise.all([storage.rooms.listFor(request.user.id), storage.lifecycle.roomStates(request.user.id)])
    return { rooms: rooms.map((room) => ({ ...room, mentionCount: states.get(room.id)?.mentionCount ?? 0, muted: states.get(room.id)?.muted ?? false })) }
  })

  app.post('/api/rooms', {
    // Per user, after authentication: every new room reaches every connected user.
    config: {
      rateLimit: config.roomsPerHour > 0
        ? { max: config.roomsPerHour, timeWindow: '1 hour', hook: 'preHandler', keyGenerator: perUser }
        : false
    },
    schema: { tags: ['rooms'], summary: 'Create a room (announced to every socket)', body: CreateRoomBody, response: { 201: z.object({ room: RoomSchema }), 400: ErrorResponse, 409: ErrorResponse, ...authErrors } }
  }, async (request, reply) => {
    const { name, topic } = request.body
    const room = await whenUnlocked(() => storage.rooms.create(name, topic, request.user.id), config.lockWaitMs)
    if (room === null) throw errors.roomExists()
    app.events.emit('room', room)
    return reply.code(201).send({ room })
  })

  app.get('/api/rooms/:roomId', {
    schema: { tags: ['rooms'], summary: 'One room', params: RoomParams, response: { 200: z.object({ room: RoomSchema }), 404: ErrorResponse, ...authErrors } }
  }, async (request) => {
    const room = await storage.rooms.get(request.params.roomId)
    if (room === null) throw errors.roomNotFound()
    return { room }
  })
}

export default roomRoutes
