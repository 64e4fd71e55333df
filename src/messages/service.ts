// Sending a message, for every way in (REST, WebSocket, uploads): rate limit → encrypt and commit
// (grouped) → emit after commit. Nothing here knows HTTP or sockets.
import type { ChatEvents } from '../events.js'
import { errors } from '../errors.js'
import { RoomMissingError, type NewMessage, type Storage, type StoredMessage } from '../storage/index.js'
import { createGroupCommit } from './group-commit.js'
import type { RateLimiter } from './rate-limiter.js'

export function createMessageService ({ storage, events, limiter }: { storage: Storage, events: ChatEvents, limiter: RateLimiter }) {
  const commit = createGroupCommit<NewMessage, StoredMessage>((inputs) => storage.messages.insertBatch(inputs))

  return {
    /** Resolves once the message is durably committed; rejects with an AppError a client can read. */
    async send (input: NewMessage): Promise<StoredMessage> {
      const waitMs = limiter.take(input.author.id)
      if (waitMs > 0) throw errors.rateLimited(waitMs / 1000, 'You are sending messages too fast; wait a moment.')
      let stored: StoredMessage
      try {
        stored = await commit.submit(input)
      } catch (error) {
        if (error instanceof RoomMissingError) throw errors.roomNotFound()
        throw error
      }
      if (stored.created) events.emit('message', stored.message)
      return stored
    },
    /** Commits whatever is queued, before the database closes. */
    flush: () => commit.flush()
  }
}

export type MessageService = ReturnType<typeof createMessageService>
