// Shared schema pieces: ids in paths and queries, and the contract's objects (for responses and
// the OpenAPI document). Feature schemas sit beside their routes.
import { z } from 'zod'
import { isWellFormed } from './text/names.js'

/** A positive integer id given as text (path or query). "1.5", "-1", "01", "1e3" are refused. */
export const IdText = z.string().regex(/^[1-9][0-9]{0,14}$/, 'expected a positive whole number').transform(Number)

/** Every text input starts here: a lone surrogate would be stored as invalid UTF-8 (and read back changed). */
export const Text = z.string().refine(isWellFormed, 'must be well-formed Unicode (no lone surrogates)')

export const RoomParams = z.strictObject({ roomId: IdText })

export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() })
}).describe('Every failure has this shape')

export const AuthorSchema = z.object({ id: z.number().int(), username: z.string() })
export const UserSchema = AuthorSchema.extend({
  createdAt: z.string(),
  isAdmin: z.boolean().describe('A server administrator: owner rights in every public and private room')
})

export const RoomSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  topic: z.string(),
  createdBy: AuthorSchema.nullable(),
  createdAt: z.string(),
  lastSeq: z.number().int().describe('The seq of the newest change in the room (0 when none)'),
  kind: z.enum(['public', 'private', 'dm']),
  archived: z.boolean().describe('Read-only: sends are refused with 403 room_archived'),
  members: z.array(AuthorSchema).optional().describe('kind "dm" only: its participants')
})

export const RoleSchema = z.enum(['owner', 'admin', 'moderator', 'member'])

export const MemberSchema = z.object({
  user: AuthorSchema,
  role: RoleSchema,
  joinedAt: z.string()
})

export const AttachmentSchema = z.object({
  url: z.string(),
  name: z.string(),
  mime: z.string(),
  size: z.number().int(),
  kind: z.enum(['image', 'video', 'audio', 'file']),
  thumbnailUrl: z.string().optional() // a small WebP preview, for images only
})

export const ReplyToSchema = z.object({
  id: z.number().int(),
  author: AuthorSchema,
  excerpt: z.string().describe('The parent\'s first 100 characters as it reads now; "" once deleted')
})

export const ReactionSchema = z.object({ emoji: z.string(), count: z.number().int(), userIds: z.array(z.number().int()) })

export const MessageSchema = z.object({
  id: z.number().int(),
  roomId: z.number().int(),
  author: AuthorSchema,
  body: z.string(),
  attachment: AttachmentSchema.nullable(),
  clientId: z.string().nullable(),
  createdAt: z.string(),
  seq: z.number().int().describe('The room\'s change counter at this message\'s latest change (send, edit, delete, reaction, pin): 1, 2, 3… per room, no gaps, in commit order'),
  editedAt: z.string().nullable(),
  deletedAt: z.string().nullable().describe('Set on a tombstone: body "" and attachment null from then on'),
  replyTo: ReplyToSchema.nullable(),
  reactions: z.array(ReactionSchema).describe('In order of first use'),
  mentions: z.array(AuthorSchema).describe('@username mentions of people who may read the room, resolved at send and edit time'),
  pinned: z.object({ by: AuthorSchema, at: z.string() }).nullable(),
  unreadable: z.literal(true).optional().describe('Only when no key decrypts the stored message: body is "" and attachment null')
})

// The contract's objects as TypeScript types, inferred from the schemas above: the one declaration
// that storage, the hub, the web client (public/js/types.js) and its tests all use.
export type Author = z.infer<typeof AuthorSchema>
export type User = z.infer<typeof UserSchema>
export type Room = z.infer<typeof RoomSchema>
export type Attachment = z.infer<typeof AttachmentSchema>
export type AttachmentKind = Attachment['kind']
export type Message = z.infer<typeof MessageSchema>
export type Reaction = z.infer<typeof ReactionSchema>
export type ReplyTo = z.infer<typeof ReplyToSchema>
export type Member = z.infer<typeof MemberSchema>

/** Responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = { 401: ErrorResponse } as const
