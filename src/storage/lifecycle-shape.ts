// What both stores share about a message's living parts (API.md "Message lifecycle"): the
// columns a message row carries beyond its body, how a reply's excerpt is cut, how reaction and
// mention rows become the message's lists, and the failures a change can meet. No SQL here.
import type { FernetRing } from '../crypto/fernet.js'
import type { Attachment, Author, Message, Reaction, ReplyTo } from '../schemas.js'
import type { IndexTokens } from './types.js'
import type { UnreadableRows } from './unreadable.js'

/** A reply's excerpt: the parent's first 100 characters (code points), as it reads now. */
export const EXCERPT_CHARS = 100
/** Distinct emoji one message may carry. */
export const MAX_DISTINCT_REACTIONS = 50

export const excerptOf = (body: string): string => {
  if (body.length <= EXCERPT_CHARS) return body
  return [...body].slice(0, EXCERPT_CHARS).join('')
}

/** The lifecycle columns of a message row (joined with its parent, its author and its pinner). */
export interface LifecycleColumns {
  edited_at: string | Date | null
  deleted_at: string | Date | null
  reply_to: number | null
  parent_user_id: number | null
  parent_username: string | null
  parent_body: string | null
  parent_deleted: string | Date | null
  pinned_by: number | null
  pinned_by_name: string | null
  pinned_at: string | Date | null
}

export interface ReactionRow { message_id: number, emoji: string, user_id: number }
export interface MentionRow { message_id: number, user_id: number, username: string }

type Iso = (value: string | Date) => string
const orNull = (value: string | Date | null, iso: Iso): string | null => (value === null ? null : iso(value))

/**
 * The reply quote from the joined parent: its excerpt follows the parent's edits, and is "" once
 * the parent is deleted (or unreadable). Null when the row is no reply or its parent is gone.
 */
export function replyOf (row: LifecycleColumns, ring: FernetRing, unreadable: UnreadableRows): ReplyTo | null {
  if (row.reply_to === null || row.parent_user_id === null) return null
  let excerpt = ''
  if (row.parent_deleted === null && row.parent_body !== null) {
    try {
      excerpt = excerptOf(ring.decryptText(row.parent_body))
    } catch {
      unreadable.saw(`message ${row.reply_to}`)
    }
  }
  return { id: row.reply_to, author: { id: row.parent_user_id, username: row.parent_username ?? '' }, excerpt }
}

/** The message's lifecycle fields, reactions and mentions from the page's grouped rows. */
export function lifecycleOf (row: LifecycleColumns, iso: Iso, reply: ReplyTo | null, reactions: Reaction[] | undefined, mentions: Author[] | undefined):
Pick<Message, 'editedAt' | 'deletedAt' | 'replyTo' | 'reactions' | 'mentions' | 'pinned'> {
  return {
    editedAt: orNull(row.edited_at, iso),
    deletedAt: orNull(row.deleted_at, iso),
    replyTo: reply,
    reactions: reactions ?? [],
    mentions: mentions ?? [],
    pinned: row.pinned_at === null || row.pinned_by === null
      ? null
      : { by: { id: row.pinned_by, username: row.pinned_by_name ?? '' }, at: iso(row.pinned_at) }
  }
}

/** Reaction rows in the order they were added → per message, each emoji in order of first use. */
export function groupReactions (rows: readonly ReactionRow[]): Map<number, Reaction[]> {
  const out = new Map<number, Reaction[]>()
  const index = new Map<string, Reaction>()
  for (const row of rows) {
    const key = `${row.message_id}\u0000${row.emoji}`
    let reaction = index.get(key)
    if (reaction === undefined) {
      reaction = { emoji: row.emoji, count: 0, userIds: [] }
      index.set(key, reaction)
      const list = out.get(row.message_id)
      if (list === undefined) out.set(row.message_id, [reaction])
      else list.push(reaction)
    }
    reaction.count++
    reaction.userIds.push(row.user_id)
  }
  return out
}

export function groupMentions (rows: readonly MentionRow[]): Map<number, Author[]> {
  const out = new Map<number, Author[]>()
  for (const row of rows) {
    const author = { id: row.user_id, username: row.username }
    const list = out.get(row.message_id)
    if (list === undefined) out.set(row.message_id, [author])
    else list.push(author)
  }
  return out
}

/** A stored message row with its author, on either store (timestamps as the dialect gives them). */
export interface StoredMessageRow extends LifecycleColumns {
  id: number
  room_id: number
  user_id: number
  username: string
  body: string
  attachment: string | null
  client_id: string | null
  created_at: string | Date
  seq: number
}

/**
 * One row as the message it is now: a tombstone's body is "" without decrypting; a row no key
 * opens comes back empty and marked (one bad row must not take its whole page down), counted once.
 */
export function messageOfRow (row: StoredMessageRow, iso: Iso, ring: FernetRing, unreadable: UnreadableRows,
  reactions: Map<number, Reaction[]>, mentions: Map<number, Author[]>): Message {
  const base = {
    id: row.id,
    roomId: row.room_id,
    author: { id: row.user_id, username: row.username },
    clientId: row.client_id,
    createdAt: iso(row.created_at),
    seq: row.seq,
    ...lifecycleOf(row, iso, replyOf(row, ring, unreadable), reactions.get(row.id), mentions.get(row.id))
  }
  if (row.deleted_at !== null) return { ...base, body: '', attachment: null }
  try {
    const body = ring.decryptText(row.body)
    const attachment = row.attachment === null ? null : JSON.parse(ring.decryptText(row.attachment)) as Attachment
    return { ...base, body, attachment }
  } catch {
    unreadable.saw(`message ${row.id}`)
    return { ...base, body: '', attachment: null, unreadable: true as const }
  }
}

/** No message with that id in that room. */
export class MessageMissingError extends Error {
  constructor () {
    super('message not found')
    this.name = 'MessageMissingError'
  }
}

/** The message is a tombstone: it cannot be edited, reacted to, pinned or replied to. */
export class MessageDeletedError extends Error {
  constructor () {
    super('message deleted')
    this.name = 'MessageDeletedError'
  }
}

/** A new emoji on a message that has MAX_DISTINCT_REACTIONS already. */
export class TooManyReactionsError extends Error {
  constructor () {
    super('too many reactions')
    this.name = 'TooManyReactionsError'
  }
}

/** What deleting committed: the tombstone, and the stored files the caller must now remove. */
export interface Removal {
  message: Message
  files: string[]
  /** False when the message was deleted already (nothing changed, no new seq). */
  changed: boolean
}

/** A change that committed: the message as it is now; `changed` false when it was a no-op (same state, no new seq). */
export interface Change {
  message: Message
  changed: boolean
}

/**
 * One change to a sent message, as data: what the group commit queues and the store applies (the
 * LifecycleStore method of the same name, inside the batch's transaction).
 */
export type MessageChange = { roomId: number, messageId: number } & (
  | { kind: 'edit', body: string, mentions: readonly Author[], tokens?: IndexTokens }
  | { kind: 'remove' }
  | { kind: 'react' | 'unreact', userId: number, emoji: string }
  | { kind: 'pin', byUserId: number }
  | { kind: 'unpin' }
)

/** What a change committed; `files` are a delete's stored files, for the caller to remove (none for any other change). */
export type ChangeResult = Change & { files: string[] }

export interface Receipt { user: Author, lastReadId: number, at: string }

export interface RoomLifecycleState { mentionCount: number, muted: boolean }

export interface ChangesPage { messages: Message[], lastSeq: number, hasMore: boolean }

export interface AroundPage { messages: Message[], hasMoreBefore: boolean, hasMoreAfter: boolean }

export interface EditVersion { body: string, editedAt: string }

/**
 * The page around a message from up to `limit` rows older than it (newest first) and up to
 * `limit + 1` from it on (oldest first): centred where both sides have enough, else filled from
 * the side that has more.
 */
export function centre<T> (olderRows: readonly T[], fromHere: readonly T[], limit: number): { rows: T[], hasMoreBefore: boolean, hasMoreAfter: boolean } {
  const before = Math.floor((limit - 1) / 2)
  const olderTake = Math.min(olderRows.length, limit - Math.min(fromHere.length, limit - before))
  const newerTake = Math.min(fromHere.length, limit - olderTake)
  return {
    rows: [...olderRows.slice(0, olderTake).reverse(), ...fromHere.slice(0, newerTake)],
    hasMoreBefore: olderRows.length > olderTake,
    hasMoreAfter: fromHere.length > newerTake
  }
}
