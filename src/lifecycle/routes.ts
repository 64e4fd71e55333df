// The lifecycle's REST routes (API.md "Message lifecycle"): edit, earlier versions, delete,
// reactions, pins, catch-up by seq, mute, receipts and the receipts preference. Changes go
// through the lifecycle service; reads ask the room's access first.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { roomAccess } from '../conversations/access.js'
import { authErrors, ErrorResponse, RoomParams, UserSchema } from '../schemas.js'
import { whenUnlocked } from '../storage/index.js'
import { ChangesQuery, ChangesResponse, EditBody, EditsResponse, MessageParams, MessageResponse, PinsResponse, PreferencesBody, ReactionParams, ReceiptsResponse } from './schemas.js'
import { actorOf } from './service.js'

const e400 = { 400: ErrorResponse }
const e403 = { 403: ErrorResponse }
const e404 = { 404: ErrorResponse }
const e409 = { 409: ErrorResponse }
/** CHANGES_PER_SECOND (edits, reactions, pins). */
const e429 = { 429: ErrorResponse }

/**
 * A change's answer is the message the storage layer has just built, field by field (as a page of
 * history is): it is not re-checked against the schema on the way out, since a storm of reactions
 * asks for hundreds of these answers a second.
 */
const builtByStorage = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) }

const routes: FastifyPluginAsyncZod = async (app) => {
  const { storage, lifecycle, config } = app
  app.addHook('onRequest', app.authenticate)
  const tags = ['lifecycle']

  app.patch('/api/rooms/:roomId/messages/:messageId', {
    schema: { tags, summary: 'Edit your message (its earlier version is kept)', params: MessageParams, body: EditBody, response: { 200: MessageResponse, ...e400, ...e403, ...e404, ...e409, ...e429, ...authErrors } },
    ...builtByStorage
  }, async (request) => ({ message: await lifecycle.edit(request.user, request.params.roomId, request.params.messageId, request.body.body) }))

  app.get('/api/rooms/:roomId/messages/:messageId/edits', {
    schema: { tags, summary: 'A message\'s earlier versions, oldest first (its author, moderators and up)', params: MessageParams, response: { 200: EditsResponse, ...e403, ...e404, ...authErrors } }
  }, async (request) => ({ edits: await lifecycle.edits(request.user, request.params.roomId, request.params.messageId) }))

  app.delete('/api/rooms/:roomId/messages/:messageId', {
    schema: { tags, summary: 'Delete a message: its text, versions, reactions and files are destroyed; a tombstone stays', params: MessageParams, response: { 204: z.null(), ...e403, ...e404, ...authErrors } }
  }, async (request, reply) => {
    await lifecycle.remove(request.user, request.params.roomId, request.params.messageId)
    return reply.code(204).send(null)
  })

  for (const [method, add] of [['PUT', true], ['DELETE', false]] as const) {
    app.route({
      method,
      url: '/api/rooms/:roomId/messages/:messageId/reactions/:emoji',
      schema: { tags, summary: add ? 'React with one emoji (URL-encoded)' : 'Take your reaction back', params: ReactionParams, response: { 200: MessageResponse, ...e400, ...e403, ...e404, ...e409, ...e429, ...authErrors } },
      ...builtByStorage,
      handler: async (request) => {
        const { roomId, messageId, emoji } = request.params
        return { message: await lifecycle.react(request.user, roomId, messageId, emoji, add) }
      }
    })
    app.route({
      method,
      url: '/api/rooms/:roomId/pins/:messageId',
      schema: { tags, summary: add ? 'Pin a message (moderators and up; anyone in a DM)' : 'Unpin a message', params: MessageParams, response: { 200: MessageResponse, ...e403, ...e404, ...e409, ...e429, ...authErrors } },
      ...builtByStorage,
      handler: async (request) => ({ message: await lifecycle.pin(request.user, request.params.roomId, request.params.messageId, add) })
    })
    app.route({
      method,
      url: '/api/rooms/:roomId/mute',
      schema: { tags, summary: add ? 'Mute the room for yourself (mentions still count)' : 'Unmute the room', params: RoomParams, response: { 204: z.null(), ...e404, ...authErrors } },
      handler: async (request, reply) => {
        const { roomId } = request.params
        await roomAccess(storage, actorOf(request.user), roomId)
        await whenUnlocked(() => storage.lifecycle.setMuted(request.user.id, roomId, add), config.lockWaitMs)
        return reply.code(204).send(null)
      }
    })
  }

  app.get('/api/rooms/:roomId/pins', {
    schema: { tags, summary: 'Pinned messages, most recently pinned first', params: RoomParams, response: { 200: PinsResponse, ...e404, ...authErrors } }
  }, async (request) => {
    await roomAccess(storage, actorOf(request.user), request.params.roomId)
    return { messages: await storage.lifecycle.pins(request.params.roomId) }
  })

  app.get('/api/rooms/:roomId/changes', {
    schema: { tags, summary: 'Catch up: every message changed since a seq, in seq order, as it is now', params: RoomParams, querystring: ChangesQuery, response: { 200: ChangesResponse, ...e400, ...e404, ...authErrors } },
    // Pages of up to 500 messages built by the storage layer: not re-checked on the way out.
    ...builtByStorage
  }, async (request) => {
    await roomAccess(storage, actorOf(request.user), request.params.roomId)
    return await storage.lifecycle.changes(request.params.roomId, request.query.since, request.query.limit)
  })

  app.get('/api/rooms/:roomId/receipts', {
    schema: { tags, summary: 'Where each member who shares receipts has read up to', params: RoomParams, response: { 200: ReceiptsResponse, ...e404, ...authErrors } }
  }, async (request) => {
    await roomAccess(storage, actorOf(request.user), request.params.roomId)
    return { receipts: await storage.lifecycle.receipts(request.params.roomId) }
  })

  app.patch('/api/me', {
    schema: { tags: ['auth'], summary: 'Your preferences: whether others see your read receipts', body: PreferencesBody, response: { 200: z.object({ user: UserSchema.extend({ shareReadReceipts: z.boolean() }) }), ...e400, ...authErrors } }
  }, async (request) => {
    const { id, username, createdAt, isAdmin } = request.user
    await whenUnlocked(() => storage.lifecycle.setShareReadReceipts(id, request.body.shareReadReceipts), config.lockWaitMs)
    return { user: { id, username, createdAt, isAdmin, shareReadReceipts: request.body.shareReadReceipts } }
  })
}

export default routes
