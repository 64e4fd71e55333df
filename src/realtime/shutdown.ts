// Graceful shutdown of the sockets, before the HTTP server closes (which waits for upgraded
// sockets): what was sent before is committed and delivered, then everyone gets a 1001.
import { setTimeout as delay } from 'node:timers/promises'
import type { WebSocket } from 'ws'
import { CloseCode, type Hub } from './hub.js'
import type { Intake } from './intake.js'

/** How long shutdown waits for clients to answer the 1001 close before cutting them off. */
const SHUTDOWN_GRACE_MS = 2000
const CLOSED = 3

export interface ShutdownParts {
  hub: Hub
  intake: Intake
  /** Commits what the message service has queued. */
  flush: () => Promise<void>
  /** Stops the timers and the event relay. */
  stop: () => void
  /** The ws server (no new sockets). */
  server: { close: () => void }
}

export async function closeSockets ({ hub, intake, flush, stop, server }: ShutdownParts): Promise<void> {
  intake.stop() // no more frames are read
  await flush() // those messages are broadcast and acked as usual
  await delay(0) // let the broadcasts and acks go out (they run after the commit's promises resolve)
  stop()
  const sockets = hub.closeAll(CloseCode.goingAway, 'server shutting down')
  const open = sockets.filter((s) => s.readyState !== CLOSED) as WebSocket[]
  await Promise.race([Promise.all(open.map(async (s) => new Promise((resolve) => s.once('close', resolve)))), delay(SHUTDOWN_GRACE_MS)])
  for (const socket of open) if (socket.readyState !== CLOSED) socket.terminate()
  server.close()
}
