// The storage interface every caller uses, whichever database is behind it: SQLite
// (sqlite-store.ts, synchronous underneath, answers in resolved promises) or PostgreSQL (pg/).
// Stores see Fernet tokens only: encryption happens above SQL, with the ring each store is given.
import type { MediaRecord } from './media.js'
import type { InsertResult } from './messages.js'
import type { Role } from '../conversations/policy.js'
import type { AroundPage, Change, ChangeResult, ChangesPage, EditVersion, MessageChange, Receipt, Removal, RoomLifecycleState } from './lifecycle-shape.js'
import type {
  AuditEntry, AuditInput, Author, Ban, ListedRoom, HistoryPage, HistoryQuery, IndexQuery, IndexTokens, Member, Message, NewIndexEntry, NewMessage, Outcome, ReadState, Room, RoomForUser, RoomPatch, ScannedMessage, StoredMessage,
  StoredStanding, User
} from './types.js'

export interface UsersStore {
  /** The new user, or null when the name is taken (without regard to case). */
  create: (username: string, passwordHash: string) => Promise<User | null>
  /** The user and their hash, for logging in. The hash never leaves the auth module. */
  findForLogin: (username: string) => Promise<{ user: User, passwordHash: string } | null>
  findById: (id: number) => Promise<User | null>
  /**
   * The user behind a verified token: null when its id `jti` is revoked or the user is gone. One
   * query (every authenticated request asks), read fresh each time: a logout or a change of
   * administrator takes effect on the next request, whichever process made it.
   */
  forToken: (id: number, jti: string) => Promise<User | null>
  /** Those of these ids that are users, in no particular order. */
  authors: (ids: readonly number[]) => Promise<Author[]>
  /** Up to `limit` users whose name starts with `prefix` (without regard to case), by name. */
  search: (prefix: string, limit: number) => Promise<Author[]>
  /** Grants or revokes server administration; null when nobody has that name. */
  setAdmin: (username: string, isAdmin: boolean) => Promise<User | null>
}

export interface RoomsStore {
  list: () => Promise<Room[]>
  /**
   * The rooms this user may read (public ones they are not banned from, their memberships; for
   * server administrators every private room too), by name, with their unread count (capped),
   * last-read message and effective role. One query, whatever the number of rooms.
   */
  listFor: (userId: number, isAdmin?: boolean) => Promise<RoomForUser[]>
  /** listFor before each room is made one object: what GET /api/rooms writes its JSON from. */
  listing: (userId: number, isAdmin?: boolean) => Promise<ListedRoom[]>
  /** The ids of the rooms listFor lists. */
  readableIds: (userId: number, isAdmin?: boolean) => Promise<number[]>
  get: (id: number) => Promise<Room | null>
  /**
   * The room and this user's standing in it (what conversations/access.ts decides on), in one
   * query: every read of a room asks. Null when there is no such room.
   */
  access: (id: number, userId: number) => Promise<{ room: Room, standing: StoredStanding } | null>
  exists: (id: number) => Promise<boolean>
  /** The new room with its creator as owner, or null when the name is taken (by its folded key). */
  create: (name: string, topic: string, createdBy: number, kind?: 'public' | 'private') => Promise<Room | null>
  /** The DM of exactly these people (the caller included), created when new. */
  dm: (createdBy: number, userIds: readonly number[]) => Promise<{ room: Room, created: boolean }>
  /** Renames, changes the topic, archives; with its audit entry. Null when the new name is taken. */
  update: (id: number, patch: RoomPatch, audit: AuditInput) => Promise<Room | null>
}

export interface MembersStore {
  /** The user's stored role in the room (null: not a member) and whether they are banned from it. */
  standing: (roomId: number, userId: number) => Promise<StoredStanding>
  get: (roomId: number, userId: number) => Promise<Member | null>
  /** Every member by rank then name, or (`rankedOnly`) those holding a role above member. */
  list: (roomId: number, rankedOnly: boolean) => Promise<Member[]>
  userIds: (roomId: number) => Promise<number[]>
  /** How many owners the room has. */
  owners: (roomId: number) => Promise<number>
  /** The new member, or null when they are one already. */
  add: (roomId: number, userId: number, role: Role, audit: AuditInput) => Promise<Member | null>
  /** Gives a role, making them a member first when they are not (public rooms). */
  setRole: (roomId: number, userId: number, role: Role, audit: AuditInput) => Promise<Member>
  /** Hands ownership over: `to` becomes owner, `from` admin. */
  transfer: (roomId: number, from: number, to: number, audit: AuditInput) => Promise<void>
  /** False when they were not a member (and then no entry is written). */
  remove: (roomId: number, userId: number, audit: AuditInput | null) => Promise<boolean>
}

export interface BansStore {
  /** Bans (again: the newest reason stands) and removes the membership, with its audit entry. */
  ban: (roomId: number, userId: number, by: number, reason: string | null, audit: AuditInput) => Promise<void>
  /** False when they were not banned (and then no entry is written). */
  unban: (roomId: number, userId: number, audit: AuditInput) => Promise<boolean>
  /** Newest first. */
  list: (roomId: number) => Promise<Ban[]>
}

/** The append-only audit log: no update, no delete. */
export interface AuditStore {
  /** One entry on its own (for changes made elsewhere: message deletes, pins). */
  add: (entry: AuditInput) => Promise<void>
  /** Newest first; `before` an entry id for the next page. */
  list: (roomId: number, query: { before?: number, limit: number }) => Promise<AuditEntry[]>
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
  /** The room's messages with a seq above `seq`, in seq order (what another node's bus missed). */
  afterSeq: (roomId: number, seq: number, limit: number) => Promise<HistoryPage>
}

/**
 * A message's life after its send (API.md "Message lifecycle"). Every method that changes a
 * message does it in one transaction that also takes the room's next seq and sets the message's
 * seq to it; a call that changes nothing (a second identical reaction, unpinning what is not
 * pinned) takes no seq and answers `changed: false`. Missing messages (or ones of another room)
 * throw MessageMissingError; changes to a tombstone throw MessageDeletedError.
 */
export interface LifecycleStore {
  /** The message in its current state, or null when the room has no message with that id. */
  get: (roomId: number, messageId: number) => Promise<Message | null>
  /** Keeps the current body as an earlier version; replaces the mentions. */
  /** `tokens`: the new text's search tokens, replacing the old ones in the same transaction (none: the old ones go). */
  edit: (roomId: number, messageId: number, body: string, mentions: readonly Author[], tokens?: IndexTokens) => Promise<Change>
  /** Destroys body, earlier versions, reactions, mentions, pin and media rows; the caller removes `files` from disk. */
  remove: (roomId: number, messageId: number) => Promise<Removal>
  /** Throws TooManyReactionsError for a new emoji past MAX_DISTINCT_REACTIONS. */
  react: (roomId: number, messageId: number, userId: number, emoji: string) => Promise<Change>
  unreact: (roomId: number, messageId: number, userId: number, emoji: string) => Promise<Change>
  pin: (roomId: number, messageId: number, byUserId: number) => Promise<Change>
  unpin: (roomId: number, messageId: number) => Promise<Change>
  /** Earlier versions, oldest first. */
  edits: (roomId: number, messageId: number) => Promise<EditVersion[]>
  /** Pinned messages, most recently pinned first. */
  pins: (roomId: number) => Promise<Message[]>
  /** Every message whose seq > since, in seq order, as it is now; lastSeq is the room's. */
  changes: (roomId: number, since: number, limit: number) => Promise<ChangesPage>
  /** The page centred on a message of the room (null: no such message there). */
  around: (roomId: number, messageId: number, limit: number) => Promise<AroundPage | null>
  setMuted: (userId: number, roomId: number, muted: boolean) => Promise<void>
  /** Per room: mentions of the user after their read marker, and whether they muted it. Rooms with neither are absent. */
  roomStates: (userId: number) => Promise<Map<number, RoomLifecycleState>>
  /** Read markers of the room's users who share receipts. */
  receipts: (roomId: number) => Promise<Receipt[]>
  /** The user's read marker in the room (null: none yet). */
  readMarker: (userId: number, roomId: number) => Promise<number | null>
  sharesReadReceipts: (userId: number) => Promise<boolean>
  setShareReadReceipts: (userId: number, share: boolean) => Promise<void>
}

/** One write of a group commit: a send, or a change to a sent message. */
export type Write = { send: NewMessage } | { change: MessageChange }
/** What one write committed, of the same kind as the write. */
export type Written = { sent: StoredMessage } | { changed: ChangeResult }
export type WriteResult = Outcome<Written>

/**
 * Sends and changes together: the message service and the lifecycle service queue theirs in one
 * group commit (messages/writes.ts), so a turn's writes share one transaction (one fsync).
 */
export interface WritesStore {
  /**
   * The writes in ONE transaction, in order (each taking its room's next seq, so a room's seqs
   * follow the list); each gets its own outcome (a send to a missing room, a change to a deleted
   * message fail alone, with the errors `insertBatch` and the LifecycleStore methods throw).
   * Rejects as a whole when the transaction fails: a lock (nothing was written, the caller may try
   * again), a full disk.
   */
  batch: (writes: readonly Write[]) => Promise<WriteResult[]>
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
 * The search index (src/search): keyed tokens per message, never text. New messages are indexed a
 * moment after their commit (`writeNew`, src/search/live.ts); edits and deletes change a message's
 * tokens with their commit (PostgreSQL: in its transaction; SQLite: right after it, in the index's
 * own file, search-index.ts); the backfill scans what is missing and writes it.
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
  /**
   * Messages as they were sent, tokenized with the search key derived from the store's keys and
   * written only while the message is neither edited nor deleted (those wrote their own tokens)
   * and not yet in the index; how many were written. Not synced to disk on its own: a crash may
   * lose it, and the next start's backfill writes it again.
   */
  writeNew: (entries: readonly NewIndexEntry[]) => Promise<number>
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
  lifecycle: LifecycleStore
  writes: WritesStore
  tokens: TokensStore
  reads: ReadsStore
  media: MediaStore
  members: MembersStore
  bans: BansStore
  audit: AuditStore
  search: SearchStore
  /** Distinct stored rows seen since start that no key decrypts (GET /api/health). */
  unreadableRows: () => number
  /** True when the database answers a query. */
  healthy: () => Promise<boolean>
  close: () => Promise<void>
}
