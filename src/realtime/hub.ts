// Who is connected and who is in which room, and the fan-out of frames to them. A plain class with
// no Fastify in it (so its tests need no server): rooms → clients and client → rooms indexes, kept
// in step, empty rooms deleted. Presence is per user: a user is in a room while any socket is.
import type { Audience, RemovalReason } from '../events.js'
import type { Author } from '../storage/index.js'
import { corkOf, type Cork } from './cork.js'
import type { ServerFrame } from './protocol.js'
import { closeSlowConsumer } from './slow-close.js'

/** ws's readyState for an open socket. */
export const OPEN = 1
const CLOSED = 3

/** Close codes the hub and the /ws route use. */
export const CloseCode = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
  unauthorized: 4001
} as const

/** The part of a ws WebSocket the hub uses (a fake one in unit tests). */
export interface HubSocket {
  readonly readyState: number
  readonly bufferedAmount: number
  send: (data: string) => void
  close: (code: number, reason: string) => void
  terminate: () => void
  ping: () => void
}

/** One connection: its user (verified once at the upgrade), token, rooms and heartbeat flag. */
let nextClientSeq = 1

export class Client {
  readonly rooms = new Set<number>()
  /** A number of its own, to key per-socket limits. */
  readonly seq = nextClientSeq++
  /** Answered the last ping (or has not been pinged yet). */
  alive = true
  /** Frames refused for coming too fast, since the client last paused (realtime/intake.ts). */
  refusedFrames = 0
  /** When the last of them was refused (performance.now()). */
  lastRefusedAt = 0
  /** A server administrator when the socket opened (they see every private room). */
  isAdmin = false
  constructor (readonly socket: HubSocket, readonly user: Author, readonly jti: string, readonly exp: number) {}
}

/** A user in a room: how many of their sockets are there, and when their typing was last relayed. */
interface Presence { author: Author, sockets: number, typingRelayedAt: number }
interface Typing { author: Author, expiresAt: number }

class RoomState {
  readonly clients = new Set<Client>()
  /** Online users, with how many of their sockets are in the room. */
  readonly users = new Map<number, Presence>()
  /** Users typing now, by id; null while nobody is. */
  typing: Map<number, Typing> | null = null
}

/**
 * The other nodes, when there are any (src/bus/): their users count as online here, and this
 * node's presence and typing changes are told to them.
 */
export interface HubPeers {
  /** Users online in the room on other nodes. */
  usersIn: (roomId: number) => Author[]
  has: (roomId: number, userId: number) => boolean
  /** A user's first socket here joined the room, or their last one here left it. */
  local: (roomId: number, user: Author, status: 'online' | 'offline') => void
  typing: (roomId: number, user: Author, isTyping: boolean) => void
  /** The room's first socket here joined it, or its last one left. */
  roomOpened: (roomId: number) => void
  roomClosed: (roomId: number) => void
  /** The user now has this many sockets on this node. */
  sockets: (userId: number, count: number) => void
  /** The user's sockets on every node (throws when that cannot be known). */
  socketsEverywhere: (userId: number) => Promise<number>
}

export interface HubOptions {
  /** A socket whose unsent bytes pass this is too slow to keep up: closed with 1013. */
  maxBufferBytes: number
  /** Typing indicators end by themselves after this long without a typing frame. */
  typingTtlMs?: number
  /** At most one relayed `isTyping: true` per user and room in this window. */
  typingThrottleMs?: number
  /** How long a slow consumer (its backlog discarded) has to read up to its 1013 before it is cut off. */
  slowCloseGraceMs?: number
}

export class Hub {
  readonly #clients = new Map<HubSocket, Client>()
  readonly #rooms = new Map<number, RoomState>()
  readonly #byUser = new Map<number, Set<Client>>()
  readonly #byToken = new Map<string, Set<Client>>()
  /** Rooms where someone is typing: the expiry sweep visits only these. */
  readonly #typingRooms = new Set<number>()
  readonly #maxBuffer: number
  readonly #typingTtl: number
  readonly #typingThrottle: number
  readonly #slowCloseGrace: number
  /** How many times each user lost each room here ("roomId:userId"): a join checked before a removal must not subscribe after it. */
  readonly #removals = new Map<string, number>()
  /** Slow consumers closing (1013) but not closed yet: shutdown must not wait for them. */
  readonly #slowClosing = new Set<HubSocket>()
  /** Set when this process is one node of several. */
  peers: HubPeers | null = null

  /** TCP sockets corked in this turn; uncorked together once the turn's promise jobs are done. */
  #corked: Cork[] = []
  readonly #uncorkAll = (): void => {
    const corked = this.#corked
    this.#corked = []
    for (const raw of corked) raw.uncork()
  }

  constructor ({ maxBufferBytes, typingTtlMs = 5000, typingThrottleMs = 2000, slowCloseGraceMs = 30_000 }: HubOptions) {
    this.#maxBuffer = maxBufferBytes
    this.#typingTtl = typingTtlMs
    this.#typingThrottle = typingThrottleMs
    this.#slowCloseGrace = slowCloseGraceMs
  }

  get size (): number {
    return this.#clients.size
  }

  client (socket: HubSocket): Client | undefined {
    return this.#clients.get(socket)
  }

  socketsOf (userId: number): number {
    return this.#byUser.get(userId)?.size ?? 0
  }

  /** True when some socket is in the room (so the room exists without asking the database). */
  hasRoom (roomId: number): boolean {
    return this.#rooms.has(roomId)
  }

  add (client: Client): void {
    this.#clients.set(client.socket, client)
    addTo(this.#byUser, client.user.id, client)
    addTo(this.#byToken, client.jti, client)
    this.peers?.sockets(client.user.id, this.socketsOf(client.user.id))
  }

  /** Forgets a client (on close, or before closing it); others see it leave its rooms. Idempotent. */
  remove (client: Client): void {
    if (!this.#clients.delete(client.socket)) return
    for (const roomId of client.rooms) this.#leave(client, roomId)
    client.rooms.clear()
    removeFrom(this.#byUser, client.user.id, client)
    removeFrom(this.#byToken, client.jti, client)
    this.peers?.sockets(client.user.id, this.socketsOf(client.user.id))
  }

  /** A number that changes whenever the user loses the room on this node (compare before and after an access check). */
  removalsOf (roomId: number, userId: number): number {
    return this.#removals.get(`${roomId}:${userId}`) ?? 0
  }

  /** Subscribes the client; returns who is online in the room (the client's user included). */
  join (client: Client, roomId: number): Author[] {
    let room = this.#rooms.get(roomId)
    if (room === undefined) {
      room = new RoomState()
      this.#rooms.set(roomId, room)
      this.peers?.roomOpened(roomId)
    }
    if (!client.rooms.has(roomId)) {
      const presence = room.users.get(client.user.id)
      if (presence === undefined) {
        // Told before the user is added, so it reaches exactly the others; not at all when the
        // user is online on another node already.
        if (this.peers?.has(roomId, client.user.id) !== true) this.#broadcast(room, { type: 'presence', roomId, user: client.user, status: 'online' })
        room.users.set(client.user.id, { author: client.user, sockets: 1, typingRelayedAt: -Infinity })
        this.peers?.local(roomId, client.user, 'online')
      } else {
        presence.sockets += 1
      }
      room.clients.add(client)
      client.rooms.add(roomId)
    }
    const online = Array.from(room.users.values(), (p) => p.author)
    if (this.peers !== null) for (const user of this.peers.usersIn(roomId)) if (!room.users.has(user.id)) online.push(user)
    return online
  }

  /** Unsubscribes the client; false when it was not in the room. */
  leave (client: Client, roomId: number): boolean {
    if (!client.rooms.delete(roomId)) return false
    this.#leave(client, roomId)
    return true
  }

  /** Sends one frame to one client. */
  send (client: Client, frame: ServerFrame): void {
    if (this.#write(client, JSON.stringify(frame))) this.#dropSlow(client)
  }

  /** Serialises once and sends to every open socket (a new room). */
  broadcastAll (frame: ServerFrame): void {
    this.#fanOut(this.#clients.values(), JSON.stringify(frame))
  }

  /** Serialises once and sends to every socket of the audience, each once. */
  deliver (frame: ServerFrame, audience: Audience): void {
    if (audience.everyone === true) return this.broadcastAll(frame)
    const targets = new Set<Client>()
    for (const userId of audience.userIds ?? []) for (const client of this.#byUser.get(userId) ?? []) targets.add(client)
    if (audience.roomId !== undefined) for (const client of this.#rooms.get(audience.roomId)?.clients ?? []) targets.add(client)
    if (audience.admins === true) for (const client of this.#clients.values()) if (client.isAdmin) targets.add(client)
    if (targets.size > 0) this.#fanOut(targets, JSON.stringify(frame))
  }

  /**
   * The user lost the room (left, kicked, banned): every socket of theirs is unsubscribed and told,
   * so no further frame of the room reaches them; the others see them go offline there.
   */
  removeUser (roomId: number, userId: number, reason: RemovalReason): void {
    const key = `${roomId}:${userId}`
    this.#removals.set(key, (this.#removals.get(key) ?? 0) + 1)
    const clients = this.#byUser.get(userId)
    if (clients === undefined) return
    const frame = JSON.stringify({ type: 'removed', roomId, reason } satisfies ServerFrame)
    for (const client of [...clients]) this.leave(client, roomId)
    this.#fanOut([...clients], frame)
  }

  /** A committed message: to everyone in its room; it also ends its author's typing there. */
  message (frame: Extract<ServerFrame, { type: 'message' }>): void {
    const room = this.#rooms.get(frame.message.roomId)
    if (room === undefined) return
    this.#stopTyping(room, frame.message.roomId, frame.message.author.id, false)
    this.#broadcast(room, frame)
  }

  /** A change to a message (or a receipt): to every socket joined to its room, serialised once. */
  roomFrame (roomId: number, frame: ServerFrame): void {
    const room = this.#rooms.get(roomId)
    if (room !== undefined) this.#broadcast(room, frame)
  }

  /** To every socket of these users here, joined to the room or not (mentions), serialised once. */
  toUsers (userIds: Iterable<number>, frame: ServerFrame): void {
    let data: string | undefined
    for (const userId of userIds) {
      const clients = this.#byUser.get(userId)
      if (clients === undefined) continue
      data ??= JSON.stringify(frame)
      this.#fanOut(clients, data)
    }
  }

  /** A typing frame from a client in the room, relayed to the other users there (throttled). */
  typing (client: Client, roomId: number, isTyping: boolean, now: number): void {
    const room = this.#rooms.get(roomId)
    if (room === undefined || !client.rooms.has(roomId)) return
    const userId = client.user.id
    if (!isTyping) {
      this.#stopTyping(room, roomId, userId, true)
      return
    }
    const presence = room.users.get(userId)
    const typing = room.typing?.get(userId)
    // The throttle outlives the indicator (it lives in the presence record), so alternating
    // true/false cannot relay more often than once per window.
    if (presence === undefined || now - presence.typingRelayedAt < this.#typingThrottle) {
      if (typing !== undefined) typing.expiresAt = now + this.#typingTtl
      return
    }
    presence.typingRelayedAt = now
    room.typing ??= new Map()
    room.typing.set(userId, { author: client.user, expiresAt: now + this.#typingTtl })
    this.#typingRooms.add(roomId)
    this.#broadcast(room, { type: 'typing', roomId, user: client.user, isTyping: true }, userId)
    this.peers?.typing(roomId, client.user, true)
  }

  /** A user came online in the room on the first other node, or left the last one. */
  peerPresence (roomId: number, user: Author, status: 'online' | 'offline'): void {
    const room = this.#rooms.get(roomId)
    // Online here too: nothing changes for the sockets here.
    if (room === undefined || room.users.has(user.id)) return
    this.#broadcast(room, { type: 'presence', roomId, user, status })
  }

  /** A typing frame relayed by another node (which throttles and expires it). */
  peerTyping (roomId: number, user: Author, isTyping: boolean): void {
    const room = this.#rooms.get(roomId)
    if (room !== undefined) this.#broadcast(room, { type: 'typing', roomId, user, isTyping }, user.id)
  }

  /** Ends typing indicators nobody refreshed: the others get `isTyping: false`. */
  sweepTyping (now: number): void {
    for (const roomId of this.#typingRooms) {
      const room = this.#rooms.get(roomId)
      if (room?.typing == null) {
        this.#typingRooms.delete(roomId)
        continue
      }
      for (const [userId, typing] of room.typing) {
        if (typing.expiresAt <= now) this.#stopTyping(room, roomId, userId, true)
      }
    }
  }

  /**
   * The shared heartbeat tick: terminates sockets that did not answer the last ping, closes those
   * whose token has expired (4001), and pings the rest.
   */
  heartbeat (nowMs: number): void {
    for (const client of this.#clients.values()) {
      if (client.exp * 1000 <= nowMs) {
        this.drop(client, CloseCode.unauthorized, 'session expired')
      } else if (!client.alive) {
        this.remove(client)
        client.socket.terminate()
      } else if (client.socket.readyState === OPEN) {
        client.alive = false
        client.socket.ping()
      }
    }
  }

  /** Closes every socket opened with this token (logout). */
  closeToken (jti: string, code: number, reason: string): void {
    const clients = this.#byToken.get(jti)
    if (clients !== undefined) for (const client of [...clients]) this.drop(client, code, reason)
  }

  /** Forgets the client at once (no more frames to it) and closes its socket. */
  drop (client: Client, code: number, reason: string): void {
    this.remove(client)
    client.socket.close(code, reason)
  }

  /** Shutdown: forgets everyone without presence chatter and closes every socket; returns them. */
  closeAll (code: number, reason: string): HubSocket[] {
    const sockets = [...this.#clients.keys(), ...this.#slowClosing]
    this.#slowClosing.clear()
    this.#clients.clear()
    this.#rooms.clear()
    this.#byUser.clear()
    this.#byToken.clear()
    this.#typingRooms.clear()
    for (const socket of sockets) socket.close(code, reason)
    return sockets
  }

  /** A socket too far behind: forgotten at once, its unsent frames discarded, closed with 1013. */
  #dropSlow (client: Client): void {
    this.remove(client)
    for (const socket of this.#slowClosing) if (socket.readyState === CLOSED) this.#slowClosing.delete(socket)
    this.#slowClosing.add(client.socket)
    closeSlowConsumer(client.socket, CloseCode.tryAgainLater, 'too slow to keep up', this.#slowCloseGrace)
  }

  #leave (client: Client, roomId: number): void {
    const room = this.#rooms.get(roomId)
    if (room === undefined) return
    room.clients.delete(client)
    const userId = client.user.id
    const presence = room.users.get(userId)
    const gone = presence !== undefined && --presence.sockets === 0
    if (gone) this.peers?.local(roomId, client.user, 'offline')
    if (room.clients.size === 0) {
      this.#rooms.delete(roomId)
      this.#typingRooms.delete(roomId)
      this.peers?.roomClosed(roomId)
      return
    }
    if (gone) {
      room.users.delete(userId)
      this.#stopTyping(room, roomId, userId, true)
      if (this.peers?.has(roomId, userId) !== true) this.#broadcast(room, { type: 'presence', roomId, user: client.user, status: 'offline' })
    }
  }

  #stopTyping (room: RoomState, roomId: number, userId: number, tell: boolean): void {
    const typing = room.typing?.get(userId)
    if (typing === undefined) return
    room.typing!.delete(userId)
    if (room.typing!.size === 0) {
      room.typing = null
      this.#typingRooms.delete(roomId)
    }
    if (!tell) return
    this.#broadcast(room, { type: 'typing', roomId, user: typing.author, isTyping: false }, userId)
    this.peers?.typing(roomId, typing.author, false)
  }

  #broadcast (room: RoomState, frame: ServerFrame, exceptUserId?: number): void {
    if (room.clients.size === 0) return
    this.#fanOut(room.clients, JSON.stringify(frame), exceptUserId)
  }

  #fanOut (clients: Iterable<Client>, data: string, exceptUserId?: number): void {
    let slow: Client[] | undefined
    for (const client of clients) {
      if (client.user.id !== exceptUserId && this.#write(client, data)) (slow ??= []).push(client)
    }
    // Dropped after the loop, so the presence frames they cause never interleave with this one.
    if (slow !== undefined) for (const client of slow) this.#dropSlow(client)
  }

  /** Sends to an open socket; true when the socket is now too far behind. */
  #write (client: Client, data: string): boolean {
    const { socket } = client
    if (socket.readyState !== OPEN) return false
    const raw = this.#cork(socket)
    socket.send(data)
    // A big burst goes out in 64 KiB writes as it grows instead of all at the end of the turn:
    // bytes held back by our own cork must not make a reading client look slow.
    if (raw.writableLength > CORK_FLUSH_BYTES) {
      raw.uncork()
      raw.cork() // still in #corked: uncorked at the end of the turn
    }
    return socket.bufferedAmount > this.#maxBuffer
  }

  /**
   * Every frame written to one socket in one turn of the event loop (a group commit's messages, and
   * the acks after them) leaves in one writev instead of one syscall per frame.
   */
  #cork (socket: HubSocket): Cork {
    const raw = corkOf(socket)
    if (raw.writableCorked === 0) {
      raw.cork()
      if (this.#corked.push(raw) === 1) process.nextTick(this.#uncorkAll)
    }
    return raw
  }
}

/** Corked bytes past which a socket is flushed within the turn. */
const CORK_FLUSH_BYTES = 64 * 1024

function addTo<K> (index: Map<K, Set<Client>>, key: K, client: Client): void {
  const set = index.get(key)
  if (set === undefined) index.set(key, new Set([client]))
  else set.add(client)
}

function removeFrom<K> (index: Map<K, Set<Client>>, key: K, client: Client): void {
  const set = index.get(key)
  if (set !== undefined && set.delete(client) && set.size === 0) index.delete(key)
}
