// Request and response shapes of the conversation and moderation routes (API.md "Conversations").
import { z } from 'zod'
import { AuthorSchema, IdText, MemberSchema, RoleSchema, Text } from '../schemas.js'

const UserId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)

export const DmBody = z.strictObject({
  userIds: z.array(UserId).min(1, 'name at least one other person').max(8, 'a DM has at most 9 people, you included')
    .refine((ids) => new Set(ids).size === ids.length, 'each person once')
    .describe('The others (1–8); you are added')
})

export const UsersQuery = z.strictObject({
  q: Text.min(1, 'must not be empty').max(32, 'must be at most 32 characters'),
  limit: z.string().regex(/^[1-9][0-9]?$/, 'expected a whole number from 1 to 50').transform(Number)
    .refine((n) => n <= 50, 'must be at most 50').default(20)
})

export const MemberParams = z.strictObject({ roomId: IdText, userId: IdText })
export const AddMemberBody = z.strictObject({ userId: UserId, role: RoleSchema.default('member') })
export const RoleBody = z.strictObject({ role: RoleSchema })
export const BanBody = z.strictObject({ reason: Text.trim().max(512, 'must be at most 512 characters').optional() }).optional()

export const AuditQuery = z.strictObject({
  before: IdText.optional(),
  limit: z.string().regex(/^[1-9][0-9]{0,2}$/, 'expected a whole number from 1 to 100').transform(Number)
    .refine((n) => n <= 100, 'must be at most 100').default(50)
})

export const BanSchema = z.object({ user: AuthorSchema, by: AuthorSchema, reason: z.string().nullable(), at: z.string() })
export const AuditEntrySchema = z.object({
  id: z.number().int(),
  action: z.enum(['member_added', 'member_removed', 'banned', 'unbanned', 'role_changed', 'room_updated', 'message_deleted', 'pinned', 'unpinned']),
  actor: AuthorSchema,
  target: AuthorSchema.nullable(),
  messageId: z.number().int().nullable(),
  reason: z.string().nullable(),
  at: z.string()
})

export const MemberResponse = z.object({ member: MemberSchema })
