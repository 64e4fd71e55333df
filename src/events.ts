// What happened, for whoever broadcasts it: the send service and the routes emit after commit,
// the WebSocket hub listens. Keeps "store" and "tell everyone" apart.
import { EventEmitter } from 'node:events'
import type { Author, Member, Message, Room } from './storage/index.js'

/**
 * Whose sockets a frame reaches: everyone's, or the union of these users', the sockets subscribed
 * to a room, and (for private rooms) the server administrators'.
 */
export interface Audience {
  everyone?: boolean
  userIds?: number[]
  /** Server administrators (they see every private room). */
  admins?: boolean
  /** Sockets subscribed to this room. */
  roomId?: number
}

export type RemovalReason = 'left' | 'kicked' | 'banned'
export type MemberChange = 'added' | 'removed' | 'banned' | 'role'

/** Frames about a conversation that go to an audience (API.md "Conversations"). */
export type ConversationFrame =
  | { type: 'room', room: Room }
  | { type: 'room_updated', room: Room }
  | { type: 'member', roomId: number, member: Member | null, userId: number, change: MemberChange }

export interface ChatEventMap {
  /** A new message is committed (never emitted for a deduplicated retry). */
  message: [message: Message]
  /** A committed change to a message (edit, delete, reaction, pin), in its full current state. */
  message_updated: [message: Message]
  /** These users are newly mentioned by this committed message (at send, or by an edit). */
  mention: [message: Message, userIds: readonly number[]]
  /** A read receipt to show in the room (already coalesced: at most one per user and room every 2 s). */
  receipt: [receipt: { roomId: number, user: Author, lastReadId: number }]
  /** A new room (`room` frame) or a changed one (`room_updated`), or a membership change (`member`). */
  conversation: [frame: ConversationFrame, audience: Audience]
  /** A user lost a room: each of their sockets is unsubscribed and told (`removed`). */
  removed: [roomId: number, userId: number, reason: RemovalReason]
  /** A token was revoked by logging out: its sockets must close. */
  revoked: [jti: string]
}

export class ChatEvents extends EventEmitter<ChatEventMap> {}
