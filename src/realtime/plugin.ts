// The real-time half of the contract: GET /ws (origin, token and socket caps checked before the
// upgrade), frames in → hub and message service, app events (message, room, revoked) out → sockets.
// Decorates `hub`. One heartbeat tick and one typing sweep for all sockets, no timers per socket.
// @see https://github.com/fastify/fastify-websocket
import fastifyWebsocket, { type WebsocketPluginOptions } from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { setTimeout as delay } from 'node:timers/promises'
import type { RawData, WebSocket } from 'ws'
import { AppError, errors, storageAppError } from '../errors.js'
import { createRateLimiter } from '../messages/rate-limiter.js'
import { whenUnlocked, type Message, type Room } from '../storage/index.js'
import { Client, CloseCode, Hub, OPEN } from './hub.js'
import { parseClientFrame, type ClientFrame, type ErrorCode } from './protocol.js'
import { originChecker, upgradeToken } from './upgrade.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
  }
}

/** How long shutdown waits for clients to answer the 1001 close before cutting them off. */
const SHUTDOWN_GRACE_MS = 2000
/** How long a closing socket may take to finish its close handshake (ws default: 30 s). */
const CLOSE_TIMEOUT_MS = 5000
const TYPING_SWEEP_MS = 1000
// Frames other than messages (which have MESSAGES_PER_SECOND) a socket may send: typing, join and
// leave reach the whole room, so they must not be free. The burst covers joining every room at once.
const FRAMES_PER_SECOND = 50
const FRAME_BURST = 500
/** Frames refused in a row before the socket is closed (1008). */
const MAX_REFUSED_FRAMES = 100

export default fp(async (app) => {
  const { config, storage, messageService, events } = app
  const hub = new Hub({ maxBufferBytes: config.maxSocketBufferBytes })
  const originAllowed = originChecker(config.corsOrigins)
  let closing = false
  app.decorate('hub', hub)

  // REST sends, uploads and socket sends all arrive here, after commit.
  const onMessage = (message: Message): void => hub.message({ type: 'message', message })
  const onRoom = (room: Room): void => hub.broadcastAll({ type: 'room', room })
  const onRevoked = (jti: string): void => hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
  events.on('message', onMessage)
  events.on('room', onRoom)
  events.on('revoked', onRevoked)

  const frameLimiter = createRateLimiter({ perSecond: FRAMES_PER_SECOND, burst: FRAME_BURST })
  const heartbeat = setInterval(() => hub.heartbeat(Date.now()), config.heartbeatMs).unref()
  const typingSweep = setInterval(() => hub.sweepTyping(performance.now()), TYPING_SWEEP_MS).unref()
  function stopListening (): void {
    clearInterval(heartbeat)
    clearInterval(typingSweep)
    events.off('message', onMessage)
    events.off('room', onRoom)
    events.off('revoked', onRevoked)
  }

  const sendError = (client: Client, code: ErrorCode, message: string, clientId?: string): void => {
    hub.send(client, clientId === undefined ? { type: 'error', code, message } : { type: 'error', code, message, clientId })
  }
  const roomExists = (roomId: number): boolean => hub.hasRoom(roomId) || storage.rooms.exists(roomId)

  async function sendMessage (client: Client, frame: Extract<ClientFrame, { type: 'message' }>): Promise<void> {
    const clientId = frame.clientId ?? null
    try {
      // Resolves after COMMIT; the room's `message` frame has gone out (from the event) by then.
      const { message } = await messageService.send({ roomId: frame.roomId, author: client.user, body: frame.body, clientId })
      hub.send(client, { type: 'ack', clientId, message })
    } catch (error) {
      if (error instanceof AppError) {
        sendError(client, error.code as ErrorCode, error.message, frame.clientId)
      } else {
        app.log.error({ err: error }, 'websocket send failed')
        sendError(client, 'internal', 'The message could not be stored; send it again.', frame.clientId)
      }
    }
  }

  /** Markers only move forward, so retries that finish out of order cannot move one back. */
  async function markRead (client: Client, frame: Extract<ClientFrame, { type: 'read' }>): Promise<void> {
    try {
      await whenUnlocked(() => storage.reads.markRead(client.user.id, frame.roomId, frame.messageId), config.lockWaitMs)
    } catch (error) {
      const known = storageAppError(error, config.lockWaitMs / 1000)
      if (known !== null) return sendError(client, known.code as ErrorCode, 'Your read marker was not saved: ' + known.message)
      app.log.error({ err: error }, 'read marker failed')
      sendError(client, 'internal', 'Your read marker was not saved.')
    }
  }

  function dispatch (client: Client, frame: ClientFrame): void {
    switch (frame.type) {
      case 'join':
        if (!roomExists(frame.roomId)) return sendError(client, 'room_not_found', 'No room has that id.')
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
        if (!roomExists(frame.roomId)) return sendError(client, 'room_not_found', 'No room has that id.')
        void markRead(client, frame)
        return
    }
  }

  function notJoined (client: Client, roomId: number, clientId?: string): void {
    if (roomExists(roomId)) sendError(client, 'not_joined', 'Join the room first.', clientId)
    else sendError(client, 'room_not_found', 'No room has that id.', clientId)
  }

  // Shared listeners (`this` is the socket): no closures per socket.
  function onFrame (this: WebSocket, data: RawData, isBinary: boolean): void {
    const client = hub.client(this)
    if (client === undefined || closing) return
    if (isBinary) return sendError(client, 'invalid_json', 'Frames must be JSON text, not binary.')
    const parsed = parseClientFrame(data.toString())
    if (!(parsed.ok && parsed.frame.type === 'message') && frameLimiter.take(client.seq) > 0) {
      if (++client.refusedFrames > MAX_REFUSED_FRAMES) return hub.drop(client, CloseCode.policy, 'too many frames')
      return sendError(client, 'rate_limited', 'Too many frames; slow down.')
    }
    client.refusedFrames = 0
    if (parsed.ok) dispatch(client, parsed.frame)
    else hub.send(client, parsed.error)
  }
  function onPong (this: WebSocket): void {
    const client = hub.client(this)
    if (client !== undefined) client.alive = true
  }
  function onClose (this: WebSocket): void {
    const client = hub.client(this)
    if (client !== undefined) hub.remove(client)
  }

  /** Before the upgrade: refusals get a plain HTTP answer with the contract's error body. */
  async function checkUpgrade (request: FastifyRequest): Promise<void> {
    if (!originAllowed(request.headers.origin, request.protocol, request.headers.host)) {
      throw errors.forbidden('This page may not open a socket here (Origin not allowed).')
    }
    const token = upgradeToken(request.query, request.headers['sec-websocket-protocol'])
    if (token === null) throw errors.unauthorized('Send your token as ?token= or in Sec-WebSocket-Protocol: bearer, <token>.')
    request.user = app.verifyAccessToken(token)
    if (config.maxSockets > 0 && hub.size >= config.maxSockets) {
      throw errors.unavailable('The server has all the connections it can take; try again shortly.')
    }
    if (config.maxSocketsPerUser > 0 && hub.socketsOf(request.user.id) >= config.maxSocketsPerUser) {
      throw new AppError(429, 'too_many_sockets', `At most ${config.maxSocketsPerUser} open connections per user; close another tab first.`,
        undefined, { 'Retry-After': '5' })
    }
  }

  function accept (socket: WebSocket, request: FastifyRequest): void {
    const { id, username, createdAt, jti, exp } = request.user
    // Everything below is synchronous, so no frame can arrive before the listeners are attached.
    // Checked again: a logout, an expiry or another socket may have come during the handshake.
    if (storage.tokens.isRevoked(jti) || exp * 1000 <= Date.now()) {
      socket.close(CloseCode.unauthorized, 'session ended')
      return
    }
    if ((config.maxSocketsPerUser > 0 && hub.socketsOf(id) >= config.maxSocketsPerUser) ||
      (config.maxSockets > 0 && hub.size >= config.maxSockets)) {
      socket.close(CloseCode.policy, 'too many connections')
      return
    }
    const client = new Client(socket, { id, username }, jti, exp)
    hub.add(client)
    socket.on('message', onFrame)
    socket.on('pong', onPong)
    socket.on('close', onClose)
    hub.send(client, { type: 'ready', user: { id, username, createdAt } })
  }

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false, // compression costs memory per socket and invites zip bombs
      clientTracking: false, // the hub tracks clients
      closeTimeout: CLOSE_TIMEOUT_MS,
      // The `bearer, <token>` form: answer with `bearer` (never echo the token back).
      handleProtocols: (protocols: Set<string>) => (protocols.has('bearer') ? 'bearer' : false)
    } as WebsocketPluginOptions['options'],
    errorHandler (error, socket, request) {
      // Protocol errors (too large → 1009, bad UTF-8 → 1007) have already started the close;
      // anything else (a reset connection) ends the socket, and 'close' cleans up.
      request.log.debug({ err: error }, 'websocket error')
      if (socket.readyState === OPEN) socket.terminate()
    },
    // Graceful shutdown: runs before the HTTP server closes (it waits for upgraded sockets).
    async preClose () {
      closing = true // no more frames are read
      messageService.flush() // commit what is queued: those messages are broadcast and acked as usual
      await delay(0) // let the broadcasts and acks go out (they run after the commit's promises resolve)
      stopListening()
      const sockets = hub.closeAll(CloseCode.goingAway, 'server shutting down')
      const open = sockets.filter((s) => s.readyState !== 3 /* CLOSED */) as WebSocket[]
      await Promise.race([Promise.all(open.map(async (s) => new Promise((resolve) => s.once('close', resolve)))), delay(SHUTDOWN_GRACE_MS)])
      for (const socket of open) if (socket.readyState !== 3) socket.terminate()
      app.websocketServer.close()
    }
  })
  app.addHook('onClose', async () => stopListening())

  app.get('/ws', { websocket: true, preValidation: checkUpgrade }, accept)
}, { name: 'realtime', fastify: '5.x', dependencies: ['core', 'auth'] })
