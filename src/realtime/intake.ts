// Frames in: text only, parsed and validated, rate limited, then dispatched. Message frames have
// their own limit (MESSAGES_PER_SECOND, in the message service); the rest reach whole rooms too,
// so they are not free either. The listeners are shared by every socket (`this` is the socket):
// no closures per socket.
import type { RawData, WebSocket } from 'ws'
import { createRateLimiter } from '../messages/rate-limiter.js'
import { sendError, type Dispatch } from './dispatch.js'
import { CloseCode, type Client, type Hub } from './hub.js'
import { parseClientFrame } from './protocol.js'

// Frames other than messages a socket may send: the burst covers joining every room at once.
const FRAMES_PER_SECOND = 50
const FRAME_BURST = 500
/** Frames refused before the socket is closed (1008), counted until the client pauses ... */
const MAX_REFUSED_FRAMES = 100
/** ... for this long. Not "in a row": the limiter's refill lets a frame through now and then, and
 * on a loaded machine that happened before a flooding client ever reached 100 in a row. */
const REFUSALS_FORGOTTEN_MS = 1000
/** Frames a socket may send while an earlier one waits for the database, before it is closed (1008). */
const MAX_HELD_FRAMES = 100

export function createIntake (hub: Hub, dispatch: Dispatch) {
  const frameLimiter = createRateLimiter({ perSecond: FRAMES_PER_SECOND, burst: FRAME_BURST })
  let stopped = false
  // A client's frames are handled in order: while one waits for the database (a join of a room
  // not seen yet, the token re-check at the upgrade), those after it are held here.
  const held = new Map<Client, Array<[RawData, boolean]>>()

  function onFrame (this: WebSocket, data: RawData, isBinary: boolean): void {
    const client = hub.client(this)
    if (client === undefined || stopped) return
    const queue = held.get(client)
    if (queue === undefined) return handle(client, data, isBinary)
    if (queue.length >= MAX_HELD_FRAMES) return hub.drop(client, CloseCode.policy, 'too many frames')
    queue.push([data, isBinary])
  }

  function handle (client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return sendError(hub, client, 'invalid_json', 'Frames must be JSON text, not binary.')
    const parsed = parseClientFrame(data.toString())
    if (!(parsed.ok && parsed.frame.type === 'message') && frameLimiter.take(client.seq) > 0) {
      client.lastRefusedAt = performance.now()
      if (++client.refusedFrames > MAX_REFUSED_FRAMES) return hub.drop(client, CloseCode.policy, 'too many frames')
      return sendError(hub, client, 'rate_limited', 'Too many frames; slow down.')
    }
    if (client.refusedFrames > 0 && performance.now() - client.lastRefusedAt >= REFUSALS_FORGOTTEN_MS) client.refusedFrames = 0
    if (!parsed.ok) return hub.send(client, parsed.error)
    const pending = dispatch(client, parsed.frame)
    if (pending !== undefined) hold(client, pending)
  }

  /** Holds the client's next frames until `until` settles (it never rejects: dispatch answers errors). */
  function hold (client: Client, until: Promise<void>): void {
    held.set(client, [])
    void until.finally(() => {
      const queue = held.get(client) ?? []
      held.delete(client)
      if (stopped || hub.client(client.socket) !== client) return
      for (let i = 0; i < queue.length; i++) {
        handle(client, ...queue[i]!)
        // That frame waits for the database in turn: the rest wait behind it.
        const next = held.get(client)
        if (next !== undefined) {
          next.push(...queue.slice(i + 1))
          return
        }
      }
    })
  }
  function onPong (this: WebSocket): void {
    const client = hub.client(this)
    if (client !== undefined) client.alive = true
  }
  function onClose (this: WebSocket): void {
    const client = hub.client(this)
    if (client === undefined) return
    held.delete(client)
    hub.remove(client)
  }

  return {
    /** Attaches the shared listeners (synchronously in the upgrade handler, so no frame is missed). */
    listen (socket: WebSocket): void {
      socket.on('message', onFrame)
      socket.on('pong', onPong)
      socket.on('close', onClose)
    },
    /** Handles the client's frames only once `until` settles (the token re-check at the upgrade). */
    hold,
    /** Shutdown: frames that arrive from now on are not read. */
    stop (): void {
      stopped = true
    }
  }
}

export type Intake = ReturnType<typeof createIntake>
