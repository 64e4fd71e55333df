import { z } from 'zod'
import { IdText, MessageSchema, Text } from '../schemas.js'

const LIMIT = 'expected a whole number from 1 to 50'

export const SearchQuery = z.strictObject({
  q: Text.min(1).max(256).describe('Words (all must match), "a phrase", a prefix like deplo*, from:username'),
  roomId: IdText.optional().describe('Only this room'),
  limit: z.string().regex(/^[0-9]{1,2}$/, LIMIT).transform(Number).pipe(z.number().min(1, LIMIT).max(50, LIMIT)).default(20)
    .meta({ type: 'integer', minimum: 1, maximum: 50, pattern: undefined, description: 'Results per page, 1–50; 20 when not given' }),
  before: IdText.optional().describe('Only messages older than this one (the last result of the previous page)'),
  sort: z.enum(['newest', 'relevance']).default('newest')
})

export const SearchResponse = z.object({
  results: z.array(z.object({
    message: MessageSchema,
    snippet: z.string().describe('Plain text around the first match'),
    highlights: z.array(z.object({ start: z.number().int(), end: z.number().int() }))
      .describe('The matched words in `snippet`, as UTF-16 offsets (start inclusive, end exclusive)')
  })),
  hasMore: z.boolean()
})
