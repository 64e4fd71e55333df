// Sending a message, for every way in (REST, WebSocket, uploads): rate limit → encrypt and commit
// (grouped with the turn's other writes, messages/writes.ts) → emit after commit. Nothing here
// knows HTTP or sockets.
import type { ChatEvents } from '../events.js'
import { errors, storageAppError } from '../errors.js'
import type { MentionResolver } from '../lifecycle/mentions.js'
import { MessageDeletedError, MessageMissingError } from '../storage/lifecycle-shape.js'
import { RoomArchivedError, RoomMissingError, type NewMessage, type Storage, type StoredMessage } from '../storage/index.js'
import { createMessageWrites, type MessageWrites } from './writes.js'
import type { SendLimiter } from '../bus/limits.js'
import type { LiveIndex } from '../search/live.js'

export interface MessageServiceOptions {
  storage: Storage
  events: ChatEvents
  limiter: SendLimiter
  lockWaitMs: number
  /** Who the body mentions (of those who may read the room); none when not given. */
  resolveMentions?: MentionResolver
  /** Where committed messages go to be indexed for search; null: no index (SEARCH_INDEX=off). */
  liveIndex?: LiveIndex | null
  /** The write queue shared with the lifecycle's changes; one of its own when not given. */
  writes?: MessageWrites
}

export function createMessageService ({ storage, events, limiter, lockWaitMs, resolveMentions, liveIndex = null, writes = createMessageWrites({ storage, lockWaitMs }) }: MessageServiceOptions) {
  return {
    /** Resolves once the message is durably committed; rejects with an AppError a client can read. */
    async send (input: NewMessage): Promise<StoredMessage> {
      const waitMs = await limiter.take(input.author.id)
      if (waitMs > 0) throw errors.rateLimited(waitMs / 1000, 'You are sending messages too fast; wait a moment.')
      let stored: StoredMessage
      try {
        const mentions = input.mentions ?? (resolveMentions === undefined ? [] : await resolveMentions(input.roomId, input.author, input.body))
        stored = await writes.send(mentions.length === 0 ? input : { ...input, mentions })
      } catch (error) {
        if (error instanceof RoomMissingError) throw errors.roomNotFound()
        // replyTo names no message of this room, or a deleted one (API.md: 404 message_not_found).
        if (error instanceof MessageMissingError || error instanceof MessageDeletedError) throw errors.messageNotFound()
        if (error instanceof RoomArchivedError) throw errors.roomArchived()
        throw storageAppError(error, lockWaitMs / 1000) ?? error
      }
      if (stored.created) {
        liveIndex?.add(stored.message)
        events.emit('message', stored.message)
        if (stored.message.mentions.length > 0) events.emit('mention', stored.message, stored.message.mentions.map((m) => m.id))
      }
      return stored
    },
    /** Commits whatever is queued (changes too), before the database closes. */
    flush: async () => writes.flush(),
    /** True from a commit that failed for lack of disk space until one succeeds. */
    get storageFull (): boolean {
      return writes.storageFull
    }
  }
}

export type MessageService = ReturnType<typeof createMessageService>
