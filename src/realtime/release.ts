// What an accepted upgrade leaves attached to a socket that may stay open for days. @fastify/websocket
// runs the upgrade through Fastify with a ServerResponse assigned to the TCP socket, and gives the
// WebSocket an 'error' listener that closes over the request and the reply. Either one kept the
// whole HTTP upgrade alive for as long as the socket: the IncomingMessage and its headers (the
// token among them), the ServerResponse, Fastify's request and reply and their listeners, a child
// logger: about 5 KB per idle socket, more than the bare `ws` socket costs in all. Both are let go
// once the socket is accepted; nothing reads them afterwards (the reply is hijacked, and Node's
// HTTP server stops using the TCP socket at the upgrade).
import type { Socket } from 'node:net'
import { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

/**
 * Swaps the plugin's per-socket 'error' listener for `onError` (one function shared by every
 * socket, `this` being the socket; ws throws an 'error' nobody listens to, so there is always
 * one), and detaches the upgrade's ServerResponse from the TCP socket.
 */
export function releaseUpgrade (socket: WebSocket, tcp: Socket | Duplex, onError: (this: WebSocket, error: Error) => void): void {
  // Only the plugin's listener is there: it is added just before the route's handler runs.
  for (const listener of socket.listeners('error')) socket.removeListener('error', listener as (error: Error) => void)
  socket.on('error', onError)
  // Node keeps the response being written on the socket as `_httpMessage` (private, hence checked);
  // detachSocket() is how Node itself lets go of it when a response is done.
  const response = (tcp as { _httpMessage?: unknown })._httpMessage
  if (response instanceof ServerResponse && response.socket === tcp) response.detachSocket(tcp as Socket)
}
