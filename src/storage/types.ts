// What the storage layer takes and returns. The contract's objects (API.md "Objects") are the
// types inferred from their zod schemas in src/schemas.ts.

import type { Role } from '../conversations/policy.js'
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
  /** The caller's effective role (policy.effectiveRole). */
  myRole: Role | null
}

export type { Member } from '../schemas.js'
export type { Role, RoomKind } from '../conversations/policy.js'

/** What an audit entry records (API.md "Moderation"): never message text. */
export type AuditAction = 'member_added' | 'member_removed' | 'banned' | 'unbanned' | 'role_changed' | 'room_updated' |
  'message_deleted' | 'pinned' | 'unpinned'

export interface AuditInput {
  roomId: number
  action: AuditAction
  actorId: number
  targetId?: number | null
  messageId?: number | null
  reason?: string | null
}

export interface AuditEntry {
  id: number
  action: AuditAction
  actor: Author
  target: Author | null
  messageId: number | null
  reason: string | null
  at: string
}

export interface Ban {
  user: Author
  by: Author
  reason: string | null
  at: string
}

/** A user's standing in one room, as stored: their role (null: not a member) and whether they are banned. */
export interface StoredStanding {
  role: Role | null
  banned: boolean
}

export interface RoomPatch {
  name?: string
  topic?: string
  archived?: boolean
}
