import { z } from 'zod'
import { MessageBody } from '../messages/schemas.js'
import { AuthorSchema, IdText, MessageSchema, Text } from '../schemas.js'

export const MessageParams = z.strictObject({ roomId: IdText, messageId: IdText })
// The emoji arrives URL-decoded; its own check (emoji.ts) answers invalid_emoji, not validation_failed.
export const ReactionParams = MessageParams.extend({ emoji: Text.max(64) })

export const EditBody = z.strictObject({
  body: MessageBody.refine((body) => body.length > 0, 'must not be empty').meta({ minLength: 1, maxLength: 4000 })
})

export const MessageResponse = z.object({ message: MessageSchema })
export const EditsResponse = z.object({ edits: z.array(z.object({ body: z.string(), editedAt: z.string() })).describe('Earlier versions, oldest first') })
export const PinsResponse = z.object({ messages: z.array(MessageSchema).describe('Most recently pinned first') })

const Limit = (max: number, fallback: number) => z.string().regex(/^[0-9]{1,3}$/, `expected a whole number from 1 to ${max}`).transform(Number)
  .pipe(z.number().min(1, `expected a whole number from 1 to ${max}`).max(max, `expected a whole number from 1 to ${max}`)).default(fallback)
  .meta({ type: 'integer', minimum: 1, maximum: max, pattern: undefined })

export const ChangesQuery = z.strictObject({
  since: z.string().regex(/^(0|[1-9][0-9]{0,14})$/, 'expected 0 or a positive whole number').transform(Number),
  limit: Limit(500, 200)
})
export const ChangesResponse = z.object({
  messages: z.array(MessageSchema).describe('Every message whose seq > since, in seq order, as it is now (deletes as tombstones)'),
  lastSeq: z.number().int(),
  hasMore: z.boolean()
})

export const ReceiptsResponse = z.object({
  receipts: z.array(z.object({ user: AuthorSchema, lastReadId: z.number().int(), at: z.string() }))
})

export const PreferencesBody = z.strictObject({ shareReadReceipts: z.boolean() })
