// The storage interface every caller uses, whichever database is behind it: SQLite
// (sqlite-store.ts, synchronous underneath, answers in resolved promises) or PostgreSQL (pg/).
// Stores see Fernet tokens only: encryption happens above SQL, with the ring each store is given.
import type { MediaRecord } from './media.js'
import type { InsertResult } from './messages.js'
import type { AroundPage, HistoryPage, HistoryQuery, IndexQuery, IndexTokens, Message, NewMessage, ReadState, Room, RoomForUser, ScannedMessage, StoredMessage, User } from './types.js'

export interface UsersStore {
  /** The new user, or null when the name is taken (without regard to case). */
  create: (username: string, passwordHash: string) => Promise<User | null>
  /** The user and their hash, for logging in. The hash never leaves the auth module. */
  findForLogin: (username: string) => Promise<{ user: User, passwordHash: string } | null>
  findById: (id: number) => Promise<User | null>
}

export interface RoomsStore {
  list: () => Promise<Room[]>
  /** Every room, by name, with this user's unread count (capped) and last-read message. */
  listFor: (userId: number) => Promise<RoomForUser[]>
  get: (id: number) => Promise<Room | null>
  exists: (id: number) => Promise<boolean>
  /** The new room, or null when the name is taken (by its folded key). */
  create: (name: string, topic: string, createdBy: number) => Promise<Room | null>
}

export interface MessagesStore {
  /** One send in a transaction of its own. */
  insert: (input: NewMessage) => Promise<StoredMessage>
  /**
   * A group of sends in ONE transaction; each gets its own outcome (a missing room fails alone).
   * Each new message takes its room's next seq in that transaction. Rejects as a whole when the
   * transaction fails (a lock: nothing was written, the caller may try again).
   */
  insertBatch: (inputs: readonly NewMessage[]) => Promise<InsertResult[]>
  /** One page, oldest first; `hasMore` when there is more in the direction asked. */
  history: (roomId: number, query: HistoryQuery) => Promise<HistoryPage>
  /**
   * `limit` messages oldest first, centred on `messageId`: up to (limit - 1) / 2 older ones, the
   * message itself (when it is in the room) and newer ones to fill the page.
   */
  around: (roomId: number, messageId: number, limit: number) => Promise<AroundPage>
  /** The room's messages with a seq above `seq`, in seq order (what another node's bus missed). */
  afterSeq: (roomId: number, seq: number, limit: number) => Promise<HistoryPage>
}

export interface TokensStore {
  revoke: (jti: string, expiresAtSeconds: number) => Promise<void>
  isRevoked: (jti: string) => Promise<boolean>
  /** Forgets revoked ids whose tokens have expired anyway; returns how many. */
  purgeExpired: (nowSeconds?: number) => Promise<number>
}

export interface ReadsStore {
  /** Moves the marker forward only, and never past the room's newest message. */
  markRead: (userId: number, roomId: number, messageId: number) => Promise<void>
  forUser: (userId: number) => Promise<Map<number, ReadState>>
}

export interface MediaStore {
  add: (records: readonly MediaRecord[]) => Promise<void>
  get: (name: string) => Promise<MediaRecord | null>
  /** Marks files as shared by a committed message. */
  link: (messageId: number, names: readonly string[]) => Promise<void>
  remove: (names: readonly string[]) => Promise<void>
  exists: (name: string) => Promise<boolean>
  /** Bytes stored for this user so far (for the upload quota). */
  usage: (uploaderId: number) => Promise<number>
}

/**
 * The search index (src/search): keyed tokens per message, never text. Sends write tokens with the
 * message (NewMessage.searchTokens); edits call `replace`, deletes `remove`; the backfill scans
 * what is missing and writes it.
 */
export interface SearchStore {
  /** Names the key the index's tokens were made with (a keyed fingerprint); null before any. */
  keyFingerprint: () => Promise<string | null>
  /** Empties the index and records the key it will be rebuilt with, in one transaction. */
  reset: (fingerprint: string) => Promise<void>
  /** The message's tokens from now on (an edit); nothing for a message that does not exist. */
  replace: (messageId: number, tokens: IndexTokens) => Promise<void>
  /** Takes messages out of the index (a delete). */
  remove: (messageIds: readonly number[]) => Promise<void>
  /** Messages with an id above `afterId`, in id order, decrypted: those not in the index, or all. */
  scan: (afterId: number, limit: number, which: 'unindexed' | 'all') => Promise<ScannedMessage[]>
  /** Writes scanned messages' tokens, replacing any, skipping each whose stored body is no longer `stamp`; how many were written. */
  write: (entries: ReadonlyArray<{ messageId: number, stamp: string, tokens: IndexTokens }>) => Promise<number>
  /** Messages in the index, and in all. */
  progress: () => Promise<{ indexed: number, total: number }>
  /** Candidates, decrypted, in the order asked; the caller checks them against their text. */
  find: (query: IndexQuery) => Promise<Message[]>
}

export interface Store {
  /** 'sqlite' or 'postgres', for health and logs. */
  readonly dialect: 'sqlite' | 'postgres'
  users: UsersStore
  rooms: RoomsStore
  messages: MessagesStore
  tokens: TokensStore
  reads: ReadsStore
  media: MediaStore
  search: SearchStore
  /** Distinct stored rows seen since start that no key decrypts (GET /api/health). */
  unreadableRows: () => number
  /** True when the database answers a query. */
  healthy: () => Promise<boolean>
  close: () => Promise<void>
}
