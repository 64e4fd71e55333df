// Every change to a sent message, for every way in (REST, sockets, tests): validate → authorize
// (conversations/access.ts for the room and role, conversations/policy.ts for the rule) → commit
// with the room's next seq, grouped with the turn's other writes (messages/writes.ts) → emit
// `message_updated` after commit → answer. Nothing here knows HTTP or sockets. Sends stay in
// messages/service.ts.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { roomAccess, type Caller } from '../conversations/access.js'
import { can, WRITES, type Role, type RoomKind } from '../conversations/policy.js'
import { AppError, errors, storageAppError } from '../errors.js'
import type { ChatEvents } from '../events.js'
import { MessageDeletedError, MessageMissingError, TooManyReactionsError, type ChangeResult, type MessageChange } from '../storage/lifecycle-shape.js'
import type { Author, Message, Room, Storage } from '../storage/index.js'
import type { MessageWrites } from '../messages/writes.js'
import type { SendLimiter } from '../bus/limits.js'
import { STORED_NAME } from '../uploads/names.js'
import { isReactionEmoji } from './emoji.js'
import type { MentionResolver } from './mentions.js'
import type { SearchKeys } from '../search/tokens.js'

export const roomKind = (room: Room): RoomKind => room.kind
const isArchived = (room: Room): boolean => room.archived

/** The caller as the access module sees them: an author (a socket's, a request's) and whether they administer the server. */
export const actorOf = (user: Author & { isAdmin?: boolean }): Caller => ({ id: user.id, isAdmin: user.isAdmin === true })

export interface LifecycleServiceOptions {
  storage: Storage
  /** The write queue the sends use too: a change commits with the sends and changes of its turn. */
  writes: MessageWrites
  /** Edits, reactions and pins per user (CHANGES_PER_SECOND); none when not given. Deletes are never limited. */
  limiter?: SendLimiter
  events: ChatEvents
  resolveMentions: MentionResolver
  mediaDir: string
  lockWaitMs: number
  /** 0: no limit. */
  editWindowMinutes: number
  /** Keys for the search index: an edit replaces the message's tokens (null: no index). */
  searchKeys?: SearchKeys | null
  log: { warn: (object: object, message: string) => void }
}

type Write = 'edit' | 'react' | 'pin'

export function createLifecycleService (o: LifecycleServiceOptions) {
  const { storage, events } = o

  /** The room and the caller's role in it; 404s for a room the caller may not see, 409 for a write to an archived one. */
  async function access (user: Author, roomId: number, write?: Write) {
    const { room, role } = await roomAccess(storage, actorOf(user), roomId)
    if (write !== undefined && WRITES.has(write) && isArchived(room)) throw new AppError('room_archived')
    return { room, role }
  }

  /** The room, the caller's role in it and the message; 404s for what the caller may not see. */
  async function load (user: Author, roomId: number, messageId: number, write?: Write) {
    const { room, role } = await access(user, roomId, write)
    const message = await storage.lifecycle.get(roomId, messageId)
    if (message === null) throw errors.messageNotFound()
    return { room, role, kind: roomKind(room), message }
  }

  /** The author's role in the room, for "a higher rank than theirs" (someone who lost access counts as a member). */
  async function authorRole (roomId: number, authorId: number): Promise<Role> {
    const author = await storage.users.findById(authorId)
    if (author === null) return 'member'
    try {
      return (await roomAccess(storage, actorOf(author), roomId)).role
    } catch {
      return 'member'
    }
  }

  /**
   * One token of the user's change allowance, once the change is allowed: a storm of reactions
   * from one person slows their own changes, not everyone's (the queue is shared).
   */
  async function throttle (userId: number): Promise<void> {
    const waitMs = await (o.limiter?.take(userId) ?? 0)
    if (waitMs > 0) throw errors.rateLimited(waitMs / 1000, 'You are changing messages too fast (edits, reactions, pins); wait a moment.')
  }

  /** Commits through the write queue, which waits out a lock; storage failures become the client's errors. */
  async function commit (change: MessageChange): Promise<ChangeResult> {
    let result: ChangeResult
    try {
      result = await o.writes.change(change)
    } catch (error) {
      if (error instanceof MessageMissingError) throw errors.messageNotFound()
      if (error instanceof MessageDeletedError) throw new AppError('message_deleted')
      if (error instanceof TooManyReactionsError) throw new AppError('too_many_reactions')
      throw storageAppError(error, o.lockWaitMs / 1000) ?? error
    }
    if (result.changed) events.emit('message_updated', result.message)
    return result
  }

  return {
    async edit (user: Author, roomId: number, messageId: number, body: string): Promise<Message> {
      const { message } = await load(user, roomId, messageId, 'edit')
      if (message.author.id !== user.id) throw errors.forbidden('Only its author may edit a message.')
      if (message.deletedAt !== null) throw new AppError('message_deleted')
      if (o.editWindowMinutes > 0 && Date.parse(message.createdAt) + o.editWindowMinutes * 60_000 < Date.now()) {
        throw new AppError('edit_window_closed', `Messages can be edited for ${o.editWindowMinutes} minutes after they are sent.`)
      }
      await throttle(user.id)
      const mentions = await o.resolveMentions(roomId, user, body)
      const { message: updated } = await commit({ kind: 'edit', roomId, messageId, body, mentions, tokens: o.searchKeys?.forText(roomId, body) })
      const before = new Set(message.mentions.map((m) => m.id))
      const added = updated.mentions.map((m) => m.id).filter((id) => !before.has(id))
      if (added.length > 0) events.emit('mention', updated, added)
      return updated
    },

    async edits (user: Author, roomId: number, messageId: number) {
      const { message, role, kind } = await load(user, roomId, messageId)
      if (message.author.id !== user.id && !can(kind, role, 'viewOthersEdits', await authorRole(roomId, message.author.id))) {
        throw errors.forbidden('Only its author and moderators may see a message\'s earlier versions.')
      }
      return await storage.lifecycle.edits(roomId, messageId)
    },

    /** Idempotent: deleting a tombstone answers the same and changes nothing. */
    async remove (user: Author, roomId: number, messageId: number): Promise<Message> {
      const { message, role, kind } = await load(user, roomId, messageId)
      if (message.author.id !== user.id && !can(kind, role, 'deleteOthers', await authorRole(roomId, message.author.id))) {
        throw errors.forbidden('Only its author and moderators may delete a message.')
      }
      if (message.deletedAt !== null) return message
      const { message: tombstone, files } = await commit({ kind: 'remove', roomId, messageId })
      // A moderator's delete of someone else's message is on the record (never its text).
      if (message.author.id !== user.id) {
        await storage.audit.add({ roomId, action: 'message_deleted', actorId: user.id, targetId: message.author.id, messageId })
      }
      // The rows are gone (GET /media answers 404 from now on); the bytes follow.
      for (const name of files) {
        if (!STORED_NAME.test(name)) continue
        await rm(join(o.mediaDir, name), { force: true }).catch((error: unknown) =>
          o.log.warn({ err: error, name }, 'a deleted message\'s file could not be removed from the media folder'))
      }
      return tombstone
    },

    async react (user: Author, roomId: number, messageId: number, emoji: string, add: boolean): Promise<Message> {
      if (!isReactionEmoji(emoji)) throw new AppError('invalid_emoji')
      // Anyone who may read the room may react: the message is not read first (the change finds it
      // missing, 404, or deleted, 409, as load would), which keeps a storm of reactions cheap.
      await access(user, roomId, add ? 'react' : undefined)
      await throttle(user.id)
      return (await commit({ kind: add ? 'react' : 'unreact', roomId, messageId, userId: user.id, emoji })).message
    },

    async pin (user: Author, roomId: number, messageId: number, pinned: boolean): Promise<Message> {
      const { role, kind, message } = await load(user, roomId, messageId, 'pin')
      if (!can(kind, role, 'pin')) throw errors.forbidden('Only moderators and up may pin and unpin messages here.')
      await throttle(user.id)
      const { message: updated } = await commit(pinned ? { kind: 'pin', roomId, messageId, byUserId: user.id } : { kind: 'unpin', roomId, messageId })
      // Only a pin that changed something is on the record (pinning a pinned message is a no-op).
      if ((message.pinned === null) === pinned) {
        await storage.audit.add({ roomId, action: pinned ? 'pinned' : 'unpinned', actorId: user.id, targetId: updated.author.id, messageId })
      }
      return updated
    }
  }
}

export type LifecycleService = ReturnType<typeof createLifecycleService>
