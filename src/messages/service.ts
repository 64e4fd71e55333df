// Sending a message, for every way in (REST, WebSocket, uploads): rate limit → encrypt and commit
// (grouped) → emit after commit. Nothing here knows HTTP or sockets.
import type { ChatEvents } from '../events.js'
import { errors, storageAppError } from '../errors.js'
import { isStorageFull, isStorageLocked, RoomArchivedError, RoomMissingError, type NewMessage, type Storage, type StoredMessage } from '../storage/index.js'
import { createGroupCommit } from './group-commit.js'
import type { SendLimiter } from '../bus/limits.js'

export function createMessageService ({ storage, events, limiter, lockWaitMs }: { storage: Storage, events: ChatEvents, limiter: SendLimiter, lockWaitMs: number }) {
  // Whether the last commit failed for lack of disk space (GET /api/health reports it).
  let full = false
  const commit = createGroupCommit<NewMessage, StoredMessage>(async (inputs) => {
    try {
      const results = await storage.messages.insertBatch(inputs)
      full = results.some((r) => !r.ok && isStorageFull(r.error))
      return results
    } catch (error) {
      if (isStorageFull(error)) full = true
      throw error
    }
  }, { isLocked: isStorageLocked, lockWaitMs, lockTimeout: () => errors.databaseLocked(lockWaitMs / 1000) })

  return {
    /** Resolves once the message is durably committed; rejects with an AppError a client can read. */
    async send (input: NewMessage): Promise<StoredMessage> {
      const waitMs = await limiter.take(input.author.id)
      if (waitMs > 0) throw errors.rateLimited(waitMs / 1000, 'You are sending messages too fast; wait a moment.')
      let stored: StoredMessage
      try {
        stored = await commit.submit(input)
      } catch (error) {
        if (error instanceof RoomMissingError) throw errors.roomNotFound()
        if (error instanceof RoomArchivedError) throw errors.roomArchived()
        throw storageAppError(error, lockWaitMs / 1000) ?? error
      }
      if (stored.created) events.emit('message', stored.message)
      return stored
    },
    /** Commits whatever is queued, before the database closes. */
    flush: async () => commit.flush(),
    /** True from a commit that failed for lack of disk space until one succeeds. */
    get storageFull (): boolean {
      return full
    }
  }
}

export type MessageService = ReturnType<typeof createMessageService>
