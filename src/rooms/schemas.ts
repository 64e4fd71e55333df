import { z } from 'zod'
import { RoomSchema, Text } from '../schemas.js'
import { roomNameProblem } from '../text/names.js'

export const CreateRoomBody = z.strictObject({
  name: Text.trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')
    .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), 'must not hold control characters')
    .superRefine((name, ctx) => {
      const problem = roomNameProblem(name)
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
    }),
  topic: Text.trim().max(512, 'must be at most 512 characters').default('')
})

/** A room as the caller sees it in the list: with their unread count and read marker. */
export const RoomWithReadState = RoomSchema.extend({
  unreadCount: z.number().int().describe('Messages from others after lastReadId (counted up to 1000)'),
  lastReadId: z.number().int().nullable().describe('The last message this user has read here, on any device'),
  mentionCount: z.number().int().describe('Mentions of you after lastReadId (muting never hides them)'),
  muted: z.boolean()
})
export type RoomWithReadState = z.infer<typeof RoomWithReadState>
