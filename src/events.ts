// What happened, for whoever broadcasts it: the send service and the routes emit after commit,
// the WebSocket hub listens. Keeps "store" and "tell everyone" apart.
import { EventEmitter } from 'node:events'
import type { Author, Message, Room } from './storage/index.js'

export interface ChatEventMap {
  /** A new message is committed (never emitted for a deduplicated retry). */
  message: [message: Message]
  /** A committed change to a message (edit, delete, reaction, pin), in its full current state. */
  message_updated: [message: Message]
  /** These users are newly mentioned by this committed message (at send, or by an edit). */
  mention: [message: Message, userIds: readonly number[]]
  /** A read receipt to show in the room (already coalesced: at most one per user and room every 2 s). */
  receipt: [receipt: { roomId: number, user: Author, lastReadId: number }]
  room: [room: Room]
  /** A token was revoked by logging out: its sockets must close. */
  revoked: [jti: string]
}

export class ChatEvents extends EventEmitter<ChatEventMap> {}
