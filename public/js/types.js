// Shapes of the wire contract (shared/API.md) plus client-only state. Types only.

/** @typedef {{ id: number, username: string }} Author */
/** @typedef {{ id: number, username: string, createdAt: string }} User */
/**
 * @typedef {{ id: number, name: string, topic: string, createdBy: Author | null, createdAt: string,
 *   unreadCount?: number, lastReadId?: number | null }} Room
 */
/**
 * @typedef {{ url: string, thumbnailUrl?: string, name: string, mime: string, size: number,
 *   kind: 'image' | 'video' | 'audio' | 'file' }} Attachment
 */
/**
 * `unreadable`: only present (true) when the server could not decrypt the stored message.
 * @typedef {{ id: number, roomId: number, author: Author, body: string, attachment: Attachment | null,
 *   clientId: string | null, createdAt: string, unreadable?: true }} Message
 */
/** @typedef {{ token: string, expiresAt: string, user: User }} Session */

/**
 * A message typed here and not yet acknowledged by the server.
 * `failed` holds the reason when the server refused it or no ack came in time.
 * @typedef {{ clientId: string, roomId: number, body: string, createdAt: string,
 *   failed: string | null }} OutboxEntry
 */

/**
 * Everything the client knows about one room.
 * `messages` is null until the room's history has been loaded (or after it went stale).
 * `syncedId`: every message up to this id is in `messages` (0 = none known); catch-up after a
 * reconnect pages forward from it. It can be behind the newest id held (an upload's REST response).
 * @typedef {{
 *   room: Room,
 *   unread: number,
 *   lastReadId: number,
 *   messages: Map<number, Message> | null,
 *   syncedId: number,
 *   hasOlder: boolean,
 *   loadingOlder: boolean,
 *   online: Map<number, Author>,
 *   typing: Map<number, { user: Author, until: number }>
 * }} RoomState
 */

/** @typedef {'connecting' | 'online' | 'reconnecting'} ConnectionState */

export {}
