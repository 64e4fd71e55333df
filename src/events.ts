// What happened, for whoever broadcasts it: the send service and the routes emit after commit,
// the WebSocket hub listens. Keeps "store" and "tell everyone" apart.
import { EventEmitter } from 'node:events'
import type { Message, Room } from './storage/index.js'

export interface ChatEventMap {
  /** A new message is committed (never emitted for a deduplicated retry). */
  message: [message: Message]
  room: [room: Room]
  /** A token was revoked by logging out: its sockets must close. */
  revoked: [jti: string]
}

export class ChatEvents extends EventEmitter<ChatEventMap> {}
