// Who may open a socket. Before the upgrade: the Origin, the token and the socket caps, refused
// over plain HTTP with the contract's error body. At the upgrade: the token and the caps again (a
// logout, an expiry or another socket may have come during the handshake), then the socket joins
// the hub and gets its `ready` frame.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { AppError, errors } from '../errors.js'
import { Client, CloseCode, OPEN, type Hub } from './hub.js'
import type { Intake } from './intake.js'
import type { Limits } from './protocol.js'
import { releaseUpgrade } from './release.js'
import { originChecker, upgradeToken } from './upgrade.js'

export interface SocketCaps {
  /** Open sockets in all; 0 = no cap. */
  maxSockets: number
  /** Open sockets per user; 0 = no cap. */
  maxSocketsPerUser: number
}

/** The one check of the socket caps: the refusal to answer, or null while there is room. */
export function capRefusal (hub: Hub, caps: SocketCaps, userId: number): AppError | null {
  if (caps.maxSockets > 0 && hub.size >= caps.maxSockets) {
    return errors.unavailable('The server has all the connections it can take; try again shortly.')
  }
  if (caps.maxSocketsPerUser > 0 && hub.socketsOf(userId) >= caps.maxSocketsPerUser) return tooManySockets(caps.maxSocketsPerUser)
  return null
}

function tooManySockets (cap: number): AppError {
  return new AppError('too_many_sockets', `At most ${cap} open connections per user; close another tab first.`, undefined, { 'Retry-After': '5' })
}

/** `limits` go out in every `ready` frame, so clients can keep within them. */
export function createAdmission (app: FastifyInstance, hub: Hub, intake: Intake, limits: Limits) {
  const { config, storage } = app
  const originAllowed = originChecker(config.corsOrigins)

  /** The /ws route's preValidation hook: refusals get a plain HTTP answer. */
  async function checkUpgrade (request: FastifyRequest): Promise<void> {
    if (!originAllowed(request.headers.origin, request.protocol, request.headers.host)) {
      throw errors.forbidden('This page may not open a socket here (Origin not allowed).')
    }
    const token = upgradeToken(request.query, request.headers['sec-websocket-protocol'])
    if (token === null) throw errors.unauthorized('Send your token as ?token= or in Sec-WebSocket-Protocol: bearer, <token>.')
    request.user = await app.verifyAccessToken(token)
    const refusal = capRefusal(hub, config, request.user.id)
    if (refusal !== null) throw refusal
    // Several nodes: the per-user cap counts every node's sockets (only this one's while Redis is away).
    if (hub.peers !== null && config.maxSocketsPerUser > 0) {
      const everywhere = await hub.peers.socketsEverywhere(request.user.id).catch(() => 0)
      if (everywhere >= config.maxSocketsPerUser) throw tooManySockets(config.maxSocketsPerUser)
    }
  }

  /** Every socket's 'error' listener (`this` is the socket), in place of the plugin's closure over the request. */
  function onSocketError (this: WebSocket, error: Error): void {
    // Protocol errors (too large → 1009, bad UTF-8 → 1007) have already started the close;
    // anything else (a reset connection) ends the socket, and 'close' cleans up.
    app.log.debug({ err: error, userId: hub.client(this)?.user.id }, 'websocket error')
    if (this.readyState === OPEN) this.terminate()
  }

  /** The /ws route's handler, once the socket is open. */
  function accept (socket: WebSocket, request: FastifyRequest): void {
    const { id, username, createdAt, isAdmin, jti, exp } = request.user
    releaseUpgrade(socket, request.raw.socket, onSocketError)
    // Everything up to intake.hold is synchronous, so no frame can arrive before the listeners are
    // attached, and none is handled before the token's re-check below has answered.
    if (exp * 1000 <= Date.now()) {
      socket.close(CloseCode.unauthorized, 'session ended')
      return
    }
    if (capRefusal(hub, config, id) !== null) {
      socket.close(CloseCode.policy, 'too many connections')
      return
    }
    const client = new Client(socket, { id, username }, jti, exp)
    client.isAdmin = isAdmin
    // In the hub first: a logout from now on closes this socket like any other of the token.
    hub.add(client)
    intake.listen(socket)
    hub.send(client, { type: 'ready', user: { id, username, createdAt, isAdmin }, limits })
    // A logout that committed during the handshake (checkUpgrade checked before it).
    intake.hold(client, storage.tokens.isRevoked(jti).then((revoked) => {
      if (revoked) hub.drop(client, CloseCode.unauthorized, 'session ended')
    }, (error: unknown) => {
      request.log.error({ err: error }, 'token re-check failed')
      hub.drop(client, CloseCode.tryAgainLater, 'try again later')
    }))
  }

  return { checkUpgrade, accept }
}
