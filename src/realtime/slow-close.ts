// Closing a slow consumer so that it learns why (1013), even after it stalled for a while. A plain
// close() queues the close frame behind the whole backlog that made the socket slow, and ws
// destroys the socket 5 s later; a client that reads again after that gets the backlog and then
// 1006, never the 1013. So: throw away the frames not yet handed to the kernel (they are what the
// client is too slow for, and it catches up from history anyway), which puts the close frame right
// behind what the kernel holds, and give the client longer to read up to it (which costs little
// now that the backlog is gone).
// ws has no API for either, so this reaches into ws's socket and Node's Writable state, checking
// what it finds; when anything looks different it leaves the backlog alone (a plain close).
import type { HubSocket } from './hub.js'

/** A Writable's state as Node 20–24 keeps it: `buffered[bufferedIndex…]` are the writes not yet started. */
interface WritableInternals {
  length: number
  pendingcb: number
  bufferedIndex: number
  buffered: Array<{ chunk: Buffer | string, callback: (error?: Error | null) => void }>
}

/** First bytes of an unfragmented, uncompressed frame ws sends: text, binary, close, ping, pong. */
const FRAME_STARTS = new Set([0x81, 0x82, 0x88, 0x89, 0x8a])

/**
 * Drops the frames queued on the TCP socket under a ws WebSocket that have not been handed to the
 * kernel; returns how many bytes (characters, for string chunks) were dropped. The write in flight
 * is left alone: it may hold half a frame. Frames are never split by this: ws writes a frame's
 * header and payload together, and Node hands the queue to the kernel whole.
 */
export function discardUnsent (socket: HubSocket): number {
  const state = (socket as { _socket?: { _writableState?: unknown } })._socket?._writableState as WritableInternals | undefined
  if (state === undefined || !Array.isArray(state.buffered) || typeof state.bufferedIndex !== 'number' ||
    typeof state.length !== 'number' || typeof state.pendingcb !== 'number') return 0
  const first = state.buffered[state.bufferedIndex]
  if (first === undefined || !Buffer.isBuffer(first.chunk) || !FRAME_STARTS.has(first.chunk[0]!)) return 0
  const dropped = state.buffered.splice(state.bufferedIndex)
  let bytes = 0
  const error = new Error('discarded: the peer was too slow to read it')
  for (const { chunk, callback } of dropped) {
    // The same bookkeeping Node does when a write completes, so 'drain', end() and 'finish' still work.
    state.length -= chunk.length
    state.pendingcb -= 1
    bytes += chunk.length
    callback(error)
  }
  return bytes
}

/** Discards the backlog, then closes with `code`, destroying the socket if the peer has not answered within `graceMs`. */
export function closeSlowConsumer (socket: HubSocket, code: number, reason: string, graceMs: number): void {
  discardUnsent(socket)
  // ws's close timer reads this when close() starts it (the server-wide default is 5 s).
  const ws = socket as { _closeTimeout?: unknown }
  if (typeof ws._closeTimeout === 'number') ws._closeTimeout = graceMs
  socket.close(code, reason)
}
