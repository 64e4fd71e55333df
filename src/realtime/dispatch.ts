// Valid frames → the hub, the message service or the read markers. Refusals go back on the same
// socket as `error` frames, with codes (and default sentences) from the catalogue in src/errors.ts.
import type { FastifyInstance } from 'fastify'
import { AppError, catalogue, storageAppError, type ErrorCode } from '../errors.js'
import { whenUnlocked } from '../storage/index.js'
import type { Client, Hub } from './hub.js'
import type { ClientFrame } from './protocol.js'

export function sendError (hub: Hub, client: Client, code: ErrorCode, message: string = catalogue[code].message, clientId?: string): void {
  hub.send(client, clientId === undefined ? { type: 'error', code, message } : { type: 'error', code, message, clientId })
}

export function createDispatch (app: FastifyInstance, hub: Hub) {
  const { storage, messageService, config } = app
  const roomExists = (roomId: number): boolean => hub.hasRoom(roomId) || storage.rooms.exists(roomId)

  async function sendMessage (client: Client, frame: Extract<ClientFrame, { type: 'message' }>): Promise<void> {
    const clientId = frame.clientId ?? null
    try {
      // Resolves after COMMIT; the room's `message` frame has gone out (from the event) by then.
      const { message } = await messageService.send({ roomId: frame.roomId, author: client.user, body: frame.body, clientId })
      hub.send(client, { type: 'ack', clientId, message })
    } catch (error) {
      if (error instanceof AppError) {
        sendError(hub, client, error.code, error.message, frame.clientId)
      } else {
        app.log.error({ err: error }, 'websocket send failed')
        sendError(hub, client, 'internal', 'The message could not be stored; send it again.', frame.clientId)
      }
    }
  }

  /** Markers only move forward, so retries that finish out of order cannot move one back. */
  async function markRead (client: Client, frame: Extract<ClientFrame, { type: 'read' }>): Promise<void> {
    try {
      await whenUnlocked(() => storage.reads.markRead(client.user.id, frame.roomId, frame.messageId), config.lockWaitMs)
    } catch (error) {
      const known = storageAppError(error, config.lockWaitMs / 1000)
      if (known !== null) return sendError(hub, client, known.code, 'Your read marker was not saved: ' + known.message)
      app.log.error({ err: error }, 'read marker failed')
      sendError(hub, client, 'internal', 'Your read marker was not saved.')
    }
  }

  function notJoined (client: Client, roomId: number, clientId?: string): void {
    sendError(hub, client, roomExists(roomId) ? 'not_joined' : 'room_not_found', undefined, clientId)
  }

  return function dispatch (client: Client, frame: ClientFrame): void {
    switch (frame.type) {
      case 'join':
        if (!roomExists(frame.roomId)) return sendError(hub, client, 'room_not_found')
        return hub.send(client, { type: 'joined', roomId: frame.roomId, online: hub.join(client, frame.roomId) })
      case 'leave':
        hub.leave(client, frame.roomId) // leaving a room one is not in is a no-op
        return
      case 'message':
        if (!client.rooms.has(frame.roomId)) return notJoined(client, frame.roomId, frame.clientId)
        void sendMessage(client, frame)
        return
      case 'typing':
        if (!client.rooms.has(frame.roomId)) return notJoined(client, frame.roomId)
        return hub.typing(client, frame.roomId, frame.isTyping, performance.now())
      case 'ping':
        return hub.send(client, { type: 'pong' })
      case 'read':
        if (!roomExists(frame.roomId)) return sendError(hub, client, 'room_not_found')
        void markRead(client, frame)
        return
    }
  }
}

export type Dispatch = ReturnType<typeof createDispatch>
