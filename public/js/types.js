// Shapes of the wire contract (shared/API.md) plus client-only state. Types only.

// The contract's objects are the types the server infers from its zod schemas (src/schemas.ts):
// type-only imports, so nothing from src/ is loaded in the browser.
/** @typedef {import('../../src/schemas.js').Author} Author */
/** @typedef {import('../../src/schemas.js').User} User */
/**
 * A room from GET /api/rooms carries the caller's read state and role; one from a `room` frame does not.
 * @typedef {import('../../src/schemas.js').Room &
 *   Partial<Pick<import('../../src/rooms/schemas.js').RoomWithReadState, 'unreadCount' | 'lastReadId' | 'myRole' | 'mentionCount' | 'muted'>>} Room
 */
/** @typedef {import('../../src/schemas.js').Member} Member */
/** @typedef {import('../../src/storage/types.js').AuditEntry} AuditEntry */
/** @typedef {import('../../src/schemas.js').Attachment} Attachment */
/** @typedef {import('../../src/schemas.js').Message} Message */
/** @typedef {NonNullable<Message['replyTo']>} ReplyRef */
/** @typedef {{ token: string, expiresAt: string, user: User }} Session */

/**
 * A message typed here and not yet acknowledged by the server.
 * `failed` holds the reason when the server refused it or no ack came in time; `replyTo`, the
 * message it answers (kept whole so the pending row shows the quote).
 * @typedef {{ clientId: string, roomId: number, body: string, createdAt: string,
 *   failed: string | null, replyTo?: ReplyRef | null }} OutboxEntry
 */

/**
 * Everything the client knows about one room.
 * `messages` is null until the room's history has been loaded (or after it went stale).
 * `syncedId`: every message up to this id is in `messages` (0 = none known); catch-up after a
 * reconnect pages forward from it. It can be behind the newest id held (an upload's REST response).
 * `syncedSeq`: every change of the room up to this `seq` has been applied (see history.js).
 * `mentions`: ids of unread messages that mention us (the badge counts them; the server's
 * `mentionCount` seeds it). `receipts`: who has read up to where (DMs and private rooms), by user id.
 * @typedef {{
 *   room: Room,
 *   unread: number,
 *   lastReadId: number,
 *   messages: Map<number, Message> | null,
 *   syncedId: number,
 *   syncedSeq: number,
 *   mentionCount: number,
 *   mentions: Set<number>,
 *   receipts: Map<number, { user: Author, lastReadId: number }> | null,
 *   hasOlder: boolean,
 *   loadingOlder: boolean,
 *   online: Map<number, Author>,
 *   typing: Map<number, { user: Author, until: number }>
 * }} RoomState
 */

/** @typedef {'connecting' | 'online' | 'reconnecting'} ConnectionState */

export {}
