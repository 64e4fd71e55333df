import { z } from 'zod'
import { RoleSchema, RoomSchema, Text } from '../schemas.js'
import { roomNameProblem } from '../text/names.js'

export const RoomName = Text.trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')
  .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), 'must not hold control characters')
  .superRefine((name, ctx) => {
    const problem = roomNameProblem(name)
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
  })
export const RoomTopic = Text.trim().max(512, 'must be at most 512 characters')

export const CreateRoomBody = z.strictObject({
  name: RoomName,
  topic: RoomTopic.default(''),
  visibility: z.enum(['public', 'private']).default('public').describe('private: listed, readable and joinable only by its members')
})

export const UpdateRoomBody = z.strictObject({
  name: RoomName.optional(),
  topic: RoomTopic.optional(),
  archived: z.boolean().optional().describe('An archived room is read-only')
}).refine((body) => body.name !== undefined || body.topic !== undefined || body.archived !== undefined, 'give name, topic or archived')

const MyRole = RoleSchema.nullable().describe('Your role here (server administrators act as owners in public and private rooms)')

/** A room as its caller sees it: with their role. */
export const RoomForCaller = RoomSchema.extend({ myRole: MyRole })

/** A room as the caller sees it in the list: with their unread count, read marker and role. */
export const RoomWithReadState = RoomForCaller.extend({
  unreadCount: z.number().int().describe('Messages from others after lastReadId (counted up to 1000)'),
  lastReadId: z.number().int().nullable().describe('The last message this user has read here, on any device'),
  mentionCount: z.number().int().describe('Mentions of you after lastReadId (muting never hides them)'),
  muted: z.boolean()
})
export type RoomWithReadState = z.infer<typeof RoomWithReadState>
