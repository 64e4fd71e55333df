// The root tsconfig does not check JavaScript (no allowJs), so the browser modules the client unit
// tests import have no types here. These declarations cover only what the tests use and mirror
// the JSDoc in public/js/ (which `tsc -p public/tsconfig.json` checks against the real code).

declare module '*/public/js/types.js' {
  // The contract's objects are the server's zod-inferred types, as in public/js/types.js.
  export type Author = import('../../src/schemas.js').Author
  export type User = import('../../src/schemas.js').User
  export type Room = import('../../src/schemas.js').Room &
    Partial<Pick<import('../../src/rooms/schemas.js').RoomWithReadState, 'unreadCount' | 'lastReadId'>>
  export type Message = import('../../src/schemas.js').Message
  export interface RoomState {
    room: Room
    unread: number
    lastReadId: number
    messages: Map<number, Message> | null
    syncedId: number
    syncedSeq: number
    hasOlder: boolean
    loadingOlder: boolean
    online: Map<number, Author>
    typing: Map<number, { user: Author, until: number }>
  }
  export type Page = { messages: Message[], hasMore: boolean }
  export type ChangesPage = { messages: Message[], lastSeq: number, hasMore: boolean }
  export type PageQuery = { before?: number, after?: number, limit?: number }
  export type Frame = Record<string, unknown> & { type: string }
}

declare module '*/public/js/store.js' {
  import type { RoomState, Room, User } from '*/public/js/types.js'
  export interface Store {
    state: { me: User | null, rooms: Map<number, RoomState>, currentRoomId: number | null }
    upsertRoom (room: Room): RoomState
    newestId (rs: RoomState): number
    emit (topic: string, detail?: number): void
  }
  export function createStore (): Store
}

declare module '*/public/js/history.js' {
  import type { ChangesPage, Message, Page, PageQuery, RoomState } from '*/public/js/types.js'
  import type { Store } from '*/public/js/store.js'
  export interface History {
    merge (rs: RoomState, messages: Message[]): Message[]
    mergeLive (rs: RoomState, message: Message): Message[]
    applyChanges (rs: RoomState, messages: Message[]): boolean
    applyLive (rs: RoomState, message: Message): boolean
    disconnected (): void
    loadLatest (roomId: number, thenCatchUp?: boolean): Promise<void>
    refresh (roomId: number): Promise<void>
  }
  export function createHistory (deps: {
    store: Store
    api: { messages (roomId: number, page?: PageQuery): Promise<Page>, changes (roomId: number, since: number, limit: number): Promise<ChangesPage> }
    meId: number
    settle: (clientId: string) => void
    isJoined: (roomId: number) => boolean
  }): History
}

declare module '*/public/js/chat.js' {
  import type { ChangesPage, Frame, Message, Page, PageQuery, Room, RoomState, User } from '*/public/js/types.js'
  import type { Store } from '*/public/js/store.js'
  export interface Chat {
    start (): Promise<void>
    onFrame (frame: Frame): void
    onDisconnected (): void
    markRead (roomId: number): void
    addOwnMessage (message: Message): void
  }
  export function createChat (deps: {
    store: Store
    api: { rooms (): Promise<Room[]>, messages (roomId: number, page?: PageQuery): Promise<Page>, changes (roomId: number, since: number, limit: number): Promise<ChangesPage> }
    socket: { start (): void, stop (): void, send (frame: Frame): boolean }
    session: { token: string, expiresAt: string, user: User }
    onLiveMessage: (message: Message, rs: RoomState) => void
    onNotice: (text: string) => void
  }): Chat
}

declare module '*/public/js/lib/limits.js' {
  export interface Limits { messagesPerSecond: number, messageBurst: number, typingTtlMs: number, typingThrottleMs: number }
  export const DEFAULT_LIMITS: Limits
  export function createPacer (limits: Limits, now?: () => number): { take (): number, drain (): void, configure (next: Limits): void }
  export function typingTimers (limits: Limits): { repeatMs: number, shownMs: number }
  export function readLimits (value: unknown): Limits
}

declare module '*/public/js/outbox.js' {
  import type { Frame } from '*/public/js/types.js'
  import type { Store } from '*/public/js/store.js'
  import type { Limits } from '*/public/js/lib/limits.js'
  export interface Outbox {
    enqueue (roomId: number, body: string): void
    resendAll (): void
    settle (clientId: string): boolean
    fail (clientId: string, reason: string): void
    throttled (clientId: string): void
    setLimits (limits: Limits): void
    stop (): void
  }
  export function createOutbox (store: Store, socket: { send (frame: Frame): boolean, isReady (): boolean }, userId: number): Outbox
}
