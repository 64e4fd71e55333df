// The hub's clocks: one heartbeat tick (pings, dead and expired sockets) and one typing sweep for
// all sockets, no timers per socket.
import type { Hub } from './hub.js'

const TYPING_SWEEP_MS = 1000

/** Starts both ticks; returns what stops them. */
export function startTimers (hub: Hub, heartbeatMs: number): () => void {
  const heartbeat = setInterval(() => hub.heartbeat(Date.now()), heartbeatMs).unref()
  const typingSweep = setInterval(() => hub.sweepTyping(performance.now()), TYPING_SWEEP_MS).unref()
  return () => {
    clearInterval(heartbeat)
    clearInterval(typingSweep)
  }
}
