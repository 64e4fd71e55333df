// Valid frames → the hub, the message service or the read markers. Refusals go back on the same
// socket as `error` frames, with codes (and default sentences) from the catalogue in src/errors.ts.
import type { FastifyInstance } from 'fastify'
import { AppError, catalogue, storageAppError, type ErrorCode } from '../errors.js'
import { isStorageLocked, whenUnlocked } from '../storage/index.js'
import { isAccessRefusal, roomAccess } from '../conversations/access.js'
import type { Client, Hub } from './hub.js'
import type { ClientFrame } from './protocol.js'

export function sendError (hub: Hub, client: Client, code: ErrorCode, message: string = catalogue[code].message, clientId?: string): void {
  hub.send(client, clientId === undefined ? { type: 'error', code, message } : { type: 'error', code, message, clientId })
}

export function createDispatch (app: FastifyInstance, hub: Hub) {
  const { storage, messageService, config } = app
  /**
   * Runs `then` once the caller may read the room (access.ts); otherwise answers as the REST routes
   * do (room_not_found for a missing room and a private one they are not in, `banned`). Returns
   * what there is to wait for (the client's next frames wait behind it).
   */
  function withRoom (client: Client, roomId: number, then: () => Promise<void> | void, clientId?: string): Promise<void> {
    return roomAccess(storage, { id: client.user.id, isAdmin: client.isAdmin }, roomId).then(() => then(), (error: unknown) => {
      if (isAccessRefusal(error)) return sendError(hub, client, error.code, error.message, clientId)
      app.log.error({ err: error }, 'room lookup failed')
      sendError(hub, client, 'internal', 'The room could not be looked up; try again.', clientId)
    })
  }

  async function sendMessage (client: Client, frame: Extract<ClientFrame, { type: 'message' }>): Promise<void> {
    const clientId = frame.clientId ?? null
    try {
      // Resolves after COMMIT; the room's `message` frame has gone out (from the event) by then.
      const { message } = await messageService.send({ roomId: frame.roomId, author: client.user, body: frame.body, clientId, replyTo: frame.replyTo ?? null })
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

  function readFailed (client: Client, error: unknown): void {
    const known = storageAppError(error, config.lockWaitMs / 1000)
    if (known !== null) return sendError(hub, client, known.code, 'Your read marker was not saved: ' + known.message)
    app.log.error({ err: error }, 'read marker failed')
    sendError(hub, client, 'internal', 'Your read marker was not saved.')
  }

  /**
   * The first try is waited for (the client's next frames find the marker stored); a locked
   * database is waited out in the background instead, without holding the client's frames.
   * Markers only move forward, so retries that finish out of order cannot move one back.
   */
  async function markRead (client: Client, frame: Extract<ClientFrame, { type: 'read' }>): Promise<void> {
    const write = async (): Promise<void> => storage.reads.markRead(client.user.id, frame.roomId, frame.messageId)
    const receipt = (): void => {
      app.receipts.afterRead(frame.roomId, client.user).catch((error: unknown) => app.log.warn({ err: error }, 'read receipt failed'))
    }
    try {
      await write()
      receipt()
    } catch (error) {
      if (!isStorageLocked(error)) return readFailed(client, error)
      whenUnlocked(write, config.lockWaitMs).then(receipt, (later: unknown) => readFailed(client, later))
    }
  }

  /** A frame for a room the socket has not joined: not_joined only to someone who may read the room. */
  function notJoined (client: Client, roomId: number, clientId?: string): Promise<void> {
    return withRoom(client, roomId, () => sendError(hub, client, 'not_joined', undefined, clientId), clientId)
  }

  /**
   * Subscribes after the access check; when the user lost the room while it was being checked
   * (a kick committed meanwhile), it is checked again instead, so no removal is undone.
   */
  function join (client: Client, roomId: number): Promise<void> {
    const removals = hub.removalsOf(roomId, client.user.id)
    return withRoom(client, roomId, () => {
      if (hub.removalsOf(roomId, client.user.id) !== removals) return join(client, roomId)
      hub.send(client, { type: 'joined', roomId, online: hub.join(client, roomId) })
    })
  }

  /** Returns a promise when the frame waits for the database: the client's next frames wait behind it. */
  return function dispatch (client: Client, frame: ClientFrame): Promise<void> | void {
    switch (frame.type) {
      case 'join':
        return join(client, frame.roomId)
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
        // The marker is stored before the client's next frame is read (markRead answers its own errors).
        return withRoom(client, frame.roomId, async () => markRead(client, frame))
    }
  }
}

export type Dispatch = ReturnType<typeof createDispatch>
