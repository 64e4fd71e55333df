// The real-time half of the contract: GET /ws. Decorates `hub`, and wires its parts: who may open
// a socket (admission.ts), frames in (intake.ts → dispatch.ts), app events out (relay.ts), the
// heartbeat and typing ticks (timers.ts) and the graceful close (shutdown.ts).
// @see https://github.com/fastify/fastify-websocket
import fastifyWebsocket, { type WebsocketPluginOptions } from '@fastify/websocket'
import fp from 'fastify-plugin'
import { startCluster } from '../bus/cluster.js'
import { errors } from '../errors.js'
import { createAdmission } from './admission.js'
import { createDispatch } from './dispatch.js'
import { Hub, OPEN } from './hub.js'
import { createIntake } from './intake.js'
import type { Limits } from './protocol.js'
import { relayEvents } from './relay.js'
import { closeSockets } from './shutdown.js'
import { startTimers } from './timers.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
  }
}

/** How long a closing socket may take to finish its close handshake (ws default: 30 s). */
const CLOSE_TIMEOUT_MS = 5000
// Sent to clients in `ready` (limits), so that their typing timers match these.
const TYPING_TTL_MS = 5000
const TYPING_THROTTLE_MS = 2000

export default fp(async (app) => {
  const { config, messageService, events } = app
  const hub = new Hub({ maxBufferBytes: config.maxSocketBufferBytes, typingTtlMs: TYPING_TTL_MS, typingThrottleMs: TYPING_THROTTLE_MS })
  const limits: Limits = {
    messagesPerSecond: app.sendLimiter.perSecond,
    messageBurst: app.sendLimiter.burst,
    typingTtlMs: TYPING_TTL_MS,
    typingThrottleMs: TYPING_THROTTLE_MS
  }
  app.decorate('hub', hub)

  // One node: app events straight to the hub. Several (REDIS_URL): through the bus (src/bus/).
  const stopRelay = app.redis === null ? relayEvents(events, hub) : (await startCluster(app, hub, app.redis)).stop
  const stopTimers = startTimers(hub, config.heartbeatMs)
  const stop = (): void => {
    stopTimers()
    stopRelay()
  }
  const intake = createIntake(hub, createDispatch(app, hub))
  const { checkUpgrade, accept } = createAdmission(app, hub, intake, limits)

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false, // compression costs memory per socket and invites zip bombs
      clientTracking: false, // the hub tracks clients
      closeTimeout: CLOSE_TIMEOUT_MS,
      // The `bearer, <token>` form: answer with `bearer` (never echo the token back).
      handleProtocols: (protocols: Set<string>) => (protocols.has('bearer') ? 'bearer' : false)
    } as WebsocketPluginOptions['options'],
    // Reached only until `accept` swaps the plugin's per-socket listener for a shared one
    // (release.ts), or when `accept` throws. Protocol errors (too large → 1009, bad UTF-8 → 1007)
    // have already started the close; anything else (a reset connection) ends the socket.
    errorHandler (error, socket, request) {
      request.log.debug({ err: error }, 'websocket error')
      if (socket.readyState === OPEN) socket.terminate()
    },
    // Graceful shutdown: runs before the HTTP server closes (it waits for upgraded sockets).
    preClose: async () => closeSockets({ hub, intake, flush: () => messageService.flush(), stop, server: app.websocketServer })
  })
  app.addHook('onClose', async () => stop())

  // An upgrade goes to `accept`; a plain GET (a browser tab, curl without the upgrade headers) gets
  // a 426 in the contract's shape instead of the plugin's empty 404.
  app.route({
    method: 'GET',
    url: '/ws',
    preValidation: checkUpgrade,
    handler: async () => { throw errors.upgradeRequired() },
    wsHandler: accept
  })
}, { name: 'realtime', fastify: '5.x', dependencies: ['core', 'auth'] })
