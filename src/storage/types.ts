// What the storage layer takes and returns. The contract's objects (API.md "Objects") are the
// types inferred from their zod schemas in src/schemas.ts.

import type { Attachment, Author, Message, Room } from '../schemas.js'

export type { Attachment, AttachmentKind, Author, Message, Room, User } from '../schemas.js'

export interface NewMessage {
  roomId: number
  author: Author
  body: string
  attachment?: Attachment | null
  clientId?: string | null
  /** The message this one answers: of the same room and not deleted, or the send fails alone. */
  replyTo?: number | null
  /** People mentioned (resolved by the caller, who knows who may read the room). */
  mentions?: readonly Author[]
  /** Only for imported history (ISO 8601, UTC); a send is stamped when it is stored. */
  createdAt?: string
}

/** `created` is false when the same sender had already sent this clientId in this room. */
export interface StoredMessage {
  message: Message
  created: boolean
}

export interface HistoryQuery {
  limit: number
  before?: number
  after?: number
}

export interface HistoryPage {
  messages: Message[]
  hasMore: boolean
}

export interface ReadState {
  roomId: number
  unreadCount: number
  lastReadId: number | null
}

/** A room as one user's room list shows it. */
export interface RoomForUser extends Room {
  unreadCount: number
  lastReadId: number | null
}
