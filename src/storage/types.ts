// The objects of the wire contract (API.md "Objects"), as the storage layer returns them.

export interface Author {
  id: number
  username: string
}

export interface User extends Author {
  createdAt: string
}

export interface Room {
  id: number
  name: string
  topic: string
  createdBy: Author | null
  createdAt: string
}

export type AttachmentKind = 'image' | 'video' | 'audio' | 'file'

export interface Attachment {
  url: string
  name: string
  mime: string
  size: number
  kind: AttachmentKind
  /** A small WebP preview, for images only. */
  thumbnailUrl?: string
}

export interface Message {
  id: number
  roomId: number
  author: Author
  body: string
  attachment: Attachment | null
  clientId: string | null
  createdAt: string
}

export interface NewMessage {
  roomId: number
  author: Author
  body: string
  attachment?: Attachment | null
  clientId?: string | null
}

/** `created` is false when the same sender had already sent this clientId in this room. */
export interface StoredMessage {
  message: Message
  created: boolean
}

export interface HistoryQuery {
  limit: number
  before?: number
  after?: number
}

export interface HistoryPage {
  messages: Message[]
  hasMore: boolean
}

export interface ReadState {
  roomId: number
  unreadCount: number
  lastReadId: number | null
}

/** A room as one user's room list shows it. */
export interface RoomForUser extends Room {
  unreadCount: number
  lastReadId: number | null
}
