// GET /api/rooms/:roomId/messages (history pages) and POST (send by REST).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { roomAccess, writableRoom } from '../conversations/access.js'
import { errors } from '../errors.js'
import { authErrors, ErrorResponse, MessageSchema, RoomParams } from '../schemas.js'
import { HistoryQuery, HistoryResponse, SendBody } from './schemas.js'

const JSON_TYPE = 'application/json; charset=utf-8'

const messageRoutes: FastifyPluginAsyncZod = async (app) => {
  const { storage, messageService, historyPages: pages } = app
  app.addHook('onRequest', app.authenticate)

  app.get('/api/rooms/:roomId/messages', {
    schema: {
      tags: ['messages'],
      summary: 'A page of history, oldest first (limit, before= for older, after= to catch up, around= centred on a message)',
      params: RoomParams,
      querystring: HistoryQuery,
      response: { 200: HistoryResponse, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, ...authErrors }
    },
    // The hottest read: pages are built field by field by the storage layer, so re-checking 50
    // messages against the schema on the way out (zod) would only double the cost of a page.
    serializerCompiler: () => (data) => JSON.stringify(data)
  }, async (request, reply) => {
    const { around, ...query } = request.query
    const ticket = pages?.ticket(request.params.roomId) ?? 0
    // Every request passes the gate, cached page or not: its room's seq comes with it.
    const { room } = await roomAccess(storage, request.user, request.params.roomId)
    if (around !== undefined) {
      const page = await storage.lifecycle.around(room.id, around, query.limit)
      if (page === null) throw errors.messageNotFound()
      return page
    }
    if (pages === null) return await storage.messages.history(room.id, query)
    const key = `${query.limit} ${query.before ?? ''} ${query.after ?? ''}`
    let body = pages.get(room.id, room.lastSeq, key)
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(await storage.messages.history(room.id, query)))
      pages.set(room.id, room.lastSeq, key, body, ticket)
    }
    // The page's JSON as bytes: sent as they are (the type provider knows only the schema's object).
    return reply.type(JSON_TYPE).send(body as never)
  })

  app.post('/api/rooms/:roomId/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Send a message (201), or get the first one back for a repeated clientId (200)',
      params: RoomParams,
      body: SendBody,
      response: { 200: z.object({ message: MessageSchema }), 201: z.object({ message: MessageSchema }), 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse, ...authErrors }
    }
  }, async (request, reply) => {
    await writableRoom(storage, request.user, request.params.roomId)
    const { message, created } = await messageService.send({
      roomId: request.params.roomId,
      author: { id: request.user.id, username: request.user.username },
      body: request.body.body,
      clientId: request.body.clientId ?? null,
      replyTo: request.body.replyTo ?? null
    })
    return reply.code(created ? 201 : 200).send({ message })
  })
}

export default messageRoutes
