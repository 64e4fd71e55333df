// ws does not expose its TCP socket, yet corking it is what lets the frames one turn writes to a
// socket leave in one writev. This is the one place that reaches ws's private `_socket`: checked for
// the stream methods the hub calls, with a no-op stand-in otherwise, so a ws upgrade that moves it
// costs speed (frames go out uncorked), never delivery. test/realtime/cork.test.ts pins it to ws.

/** The part of a net.Socket the hub's corking uses. */
export interface Cork {
  readonly writableCorked: number
  readonly writableLength: number
  cork: () => void
  uncork: () => void
}

/** The stand-in: it reads as corked already and holds nothing, so it is never corked, queued or flushed. */
export const NO_CORK: Cork = Object.freeze({ writableCorked: 1, writableLength: 0, cork () {}, uncork () {} })

/** The TCP stream under a ws WebSocket, or NO_CORK (a fake socket, a ws that keeps it elsewhere). Allocates nothing. */
export function corkOf (socket: object): Cork {
  const raw = (socket as { _socket?: Partial<Cork> | null })._socket
  if (raw == null || typeof raw.cork !== 'function' || typeof raw.uncork !== 'function' ||
    typeof raw.writableCorked !== 'number' || typeof raw.writableLength !== 'number') return NO_CORK
  return raw as Cork
}
