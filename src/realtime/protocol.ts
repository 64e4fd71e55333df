// The WebSocket wire protocol (API.md "WebSocket"): zod schemas for what clients send, TS types
// for what the server sends, and one safe parser. The web client in public/ uses the same names.
import sjson from 'secure-json-parse'
import { z } from 'zod'
import type { ErrorCode } from '../errors.js'
import { ClientId, MessageBody } from '../messages/schemas.js'
import type { ConversationFrame, RemovalReason } from '../events.js'
import type { Author, Message, User } from '../storage/index.js'
import { isWellFormed } from '../text/names.js'

const RoomId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)

export const JoinFrame = z.strictObject({ type: z.literal('join'), roomId: RoomId })
export const LeaveFrame = z.strictObject({ type: z.literal('leave'), roomId: RoomId })
export const SendFrame = z.strictObject({
  type: z.literal('message'),
  roomId: RoomId,
  body: MessageBody.refine((body) => body.length > 0, 'must not be empty'),
  // Optional as in REST; without one there is no safe retry and the ack carries `clientId: null`.
  clientId: ClientId.optional(),
  replyTo: RoomId.optional()
})
export const TypingFrame = z.strictObject({ type: z.literal('typing'), roomId: RoomId, isTyping: z.boolean() })
export const PingFrame = z.strictObject({ type: z.literal('ping') })
/** Our addition: the user has read the room up to this message (drives unreadCount in GET /api/rooms). */
export const ReadFrame = z.strictObject({ type: z.literal('read'), roomId: RoomId, messageId: RoomId })

export const ClientFrame = z.discriminatedUnion('type', [JoinFrame, LeaveFrame, SendFrame, TypingFrame, PingFrame, ReadFrame])
export type ClientFrame = z.infer<typeof ClientFrame>

const KNOWN_TYPES: ReadonlySet<string> = new Set(['join', 'leave', 'message', 'typing', 'ping', 'read'])

/** Our addition to `ready`: the limits this server applies, so clients can keep within them. */
export interface Limits {
  /** Messages per user per second (sockets and REST together); 0 = no limit. */
  messagesPerSecond: number
  /** How many messages may go at once before that rate applies; 0 = no limit. */
  messageBurst: number
  /** A typing indicator ends this long after the last `typing` frame. */
  typingTtlMs: number
  /** At most one `isTyping: true` per user and room is relayed in this window. */
  typingThrottleMs: number
}

export type ServerFrame =
  | { type: 'ready', user: User, limits: Limits }
  | { type: 'joined', roomId: number, online: Author[] }
  | { type: 'presence', roomId: number, user: Author, status: 'online' | 'offline' }
  | { type: 'ack', clientId: string | null, message: Message }
  | { type: 'message', message: Message }
  | { type: 'typing', roomId: number, user: Author, isTyping: boolean }
  | { type: 'pong' }
  | { type: 'message_updated', message: Message }
  | { type: 'mention', message: Message }
  | { type: 'receipt', roomId: number, user: Author, lastReadId: number }
  | ConversationFrame
  | { type: 'removed', roomId: number, reason: RemovalReason }
  // Codes come from the one catalogue in src/errors.ts (REST uses the same ones).
  | { type: 'error', code: ErrorCode, message: string, clientId?: string }

export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>

export type ParseResult = { ok: true, frame: ClientFrame } | { ok: false, error: ErrorFrame }

function fail (code: ErrorCode, message: string, clientId?: unknown): ParseResult {
  const error: ErrorFrame = { type: 'error', code, message }
  // Echo the sender's clientId on a refused send so its outbox can mark that message failed.
  if (typeof clientId === 'string' && clientId.length > 0 && clientId.length <= 64 && isWellFormed(clientId)) error.clientId = clientId
  return { ok: false, error }
}

/** One text frame → a typed client frame, or the error frame to answer with. Never throws. */
export function parseClientFrame (text: string): ParseResult {
  let data: unknown
  try {
    // Refuses `__proto__` and `constructor.prototype` keys outright (prototype poisoning).
    data = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch {
    return fail('invalid_json', 'Frames must be JSON text.')
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail('validation_failed', 'A frame must be a JSON object with a "type".')
  }
  const { type, clientId } = data as Record<string, unknown>
  if (typeof type === 'string' && !KNOWN_TYPES.has(type)) {
    return fail('unknown_type', `Unknown frame type "${type.slice(0, 40)}".`, clientId)
  }
  const result = ClientFrame.safeParse(data)
  if (!result.success) {
    const issue = result.error.issues[0]
    const path = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')} `
    const label = typeof type === 'string' ? `${type} frame` : 'frame'
    return fail('validation_failed', `Invalid ${label}: ${path}${issue?.message ?? 'is not valid'}`, clientId)
  }
  return { ok: true, frame: result.data }
}
