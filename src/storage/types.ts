// What the storage layer takes and returns. The contract's objects (API.md "Objects") are the
// types inferred from their zod schemas in src/schemas.ts.

import type { Role } from '../conversations/policy.js'
import type { Attachment, Author, Message, Room } from '../schemas.js'

export type { Attachment, AttachmentKind, Author, Message, Room, User } from '../schemas.js'

/** One write's own result in a batch that writes several: its value, or the error it alone met. */
export type Outcome<O> = { ok: true, value: O } | { ok: false, error: unknown }

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

/** One room of a user's list in two parts: what rarely changes, and what this call read (RoomsStore.listing). */
export interface ListedRoom {
  /**
   * Name, topic, creator, kind, archived, a DM's people: on SQLite the same object from call to
   * call until one of those changes (so whatever is derived from it can be kept beside it). Its
   * lastSeq is not this call's: `lastSeq` is.
   */
  room: Room
  lastSeq: number
  unreadCount: number
  lastReadId: number | null
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

/**
 * What the search index holds for one message (src/search/tokens.ts makes them, above SQL: stores
 * never see the words): keyed hashes, as hex, of its words in text order and of its prefixes.
 */
export interface IndexTokens {
  words: string[]
  prefixes: string[]
}

/** A message as sent, for the search index (tokenized by the store, with the search key). */
export interface NewIndexEntry {
  messageId: number
  roomId: number
  body: string
}

/**
 * One search term as the store looks it up: any of `alternatives` (one per readable room: the
 * term's tokens under that room's key) must be in the message. A word is one token, a phrase its
 * words' tokens in order (adjacent), a prefix one prefix token.
 */
export interface IndexTerm {
  kind: 'words' | 'prefix'
  alternatives: string[][]
}

export interface IndexQuery {
  /** All must match; none: every message (with `authorName`, a from: search alone). */
  terms: IndexTerm[]
  roomIds: number[]
  /** Only this author's messages (compared without regard to case). */
  authorName: string | null
  /** Only messages with a smaller id. */
  before: number | null
  /** Newest first, or the index's own ranking (bm25 on SQLite, ts_rank on PostgreSQL). */
  order: 'newest' | 'relevance'
  limit: number
  /** Candidates to skip (ranking pages on by offset; newest pages on by `before`). */
  offset: number
}

/** A message read for indexing, with the stored body token it was read from. */
export interface ScannedMessage {
  message: Message
  /** The body as stored: a write of its tokens is skipped when it changed since (edit, delete, rotation). */
  stamp: string
}
