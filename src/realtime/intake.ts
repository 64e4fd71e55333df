// Frames in: text only, parsed and validated, rate limited, then dispatched. Message frames have
// their own limit (MESSAGES_PER_SECOND, in the message service); the rest reach whole rooms too,
// so they are not free either. The listeners are shared by every socket (`this` is the socket):
// no closures per socket.
import type { RawData, WebSocket } from 'ws'
import { createRateLimiter } from '../messages/rate-limiter.js'
import { sendError, type Dispatch } from './dispatch.js'
import { CloseCode, type Hub } from './hub.js'
import { parseClientFrame } from './protocol.js'

// Frames other than messages a socket may send: the burst covers joining every room at once.
const FRAMES_PER_SECOND = 50
const FRAME_BURST = 500
/** Frames refused in a row before the socket is closed (1008). */
const MAX_REFUSED_FRAMES = 100

export function createIntake (hub: Hub, dispatch: Dispatch) {
  const frameLimiter = createRateLimiter({ perSecond: FRAMES_PER_SECOND, burst: FRAME_BURST })
  let stopped = false

  function onFrame (this: WebSocket, data: RawData, isBinary: boolean): void {
    const client = hub.client(this)
    if (client === undefined || stopped) return
    if (isBinary) return sendError(hub, client, 'invalid_json', 'Frames must be JSON text, not binary.')
    const parsed = parseClientFrame(data.toString())
    if (!(parsed.ok && parsed.frame.type === 'message') && frameLimiter.take(client.seq) > 0) {
      if (++client.refusedFrames > MAX_REFUSED_FRAMES) return hub.drop(client, CloseCode.policy, 'too many frames')
      return sendError(hub, client, 'rate_limited', 'Too many frames; slow down.')
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

  return {
    /** Attaches the shared listeners (synchronously in the upgrade handler, so no frame is missed). */
    listen (socket: WebSocket): void {
      socket.on('message', onFrame)
      socket.on('pong', onPong)
      socket.on('close', onClose)
    },
    /** Shutdown: frames that arrive from now on are not read. */
    stop (): void {
      stopped = true
    }
  }
}

export type Intake = ReturnType<typeof createIntake>
