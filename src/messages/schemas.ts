import { z } from 'zod'
import { IdText, MessageSchema, Text } from '../schemas.js'
import { hasVisibleCharacter } from '../text/names.js'

const MAX_BODY = 4000

/**
 * 1–4000 characters once trailing white space is trimmed; characters are code points, so 👋 is one.
 * A body with nothing visible in it (white space, zero-width and other invisible characters) is "".
 */
export const MessageBody = Text
  .transform((body) => (hasVisibleCharacter(body) ? body.trimEnd() : ''))
  // UTF-16 length first: at most 2 units a character, so a huge string is refused without spreading it.
  .refine((body) => body.length <= MAX_BODY * 2 && [...body].length <= MAX_BODY, `must be at most ${MAX_BODY} characters`)
  .refine((body) => !body.includes('\u0000'), 'must not hold NUL characters')

export const ClientId = Text.min(1).max(64)

export const SendBody = z.strictObject({
  body: MessageBody.refine((body) => body.length > 0, 'must not be empty')
    .meta({ minLength: 1, maxLength: MAX_BODY, description: 'Counted in characters after trailing white space is trimmed' }),
  clientId: ClientId.optional(),
  replyTo: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe('A message of the same room that is not deleted')
})

export const HistoryQuery = z.object({
  limit: z.string().regex(/^[0-9]{1,3}$/, 'expected a whole number from 1 to 100').transform(Number)
    .pipe(z.number().min(1, 'expected a whole number from 1 to 100').max(100, 'expected a whole number from 1 to 100')).default(50)
    // In the document: the whole number a client sends, not the text pattern that parses it.
    .meta({ type: 'integer', minimum: 1, maximum: 100, pattern: undefined, description: 'Messages per page, 1–100; 50 when not given' }),
  before: IdText.optional(),
  // after=0 is "from the very first message": a client that has seen nothing can page forward.
  // One pattern, not a union: the document generator dropped the union's IdText half.
  after: z.string().regex(/^(0|[1-9][0-9]{0,14})$/, 'expected 0 or a positive whole number').transform(Number).optional(),
  // The page centred on this message (jumping to a reply's parent or a search hit).
  around: IdText.optional()
}).refine((q) => [q.before, q.after, q.around].filter((v) => v !== undefined).length <= 1, { message: 'give at most one of before, after and around' })

export const HistoryResponse = z.object({
  messages: z.array(MessageSchema),
  hasMore: z.boolean().describe('Whether more messages exist beyond this page, in the direction asked')
}).or(z.object({
  messages: z.array(MessageSchema).describe('With around=: the page centred on that message'),
  hasMoreBefore: z.boolean(),
  hasMoreAfter: z.boolean()
}))
