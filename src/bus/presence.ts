// Who is online on the other nodes, per room. Each node keeps its own entries in one Redis hash
// (`presence:<node>`, field `room:user`, value the username) that expires unless the node
// refreshes it, and tells the others of each change on the bus. Every node mirrors the others'
// entries in memory (the hub's `joined` and `presence` frames are synchronous), from the bus and
// from a full read of the hashes at start and whenever the bus may have missed something. A node
// that stops refreshing (killed, cut off) drops out of every mirror after `ttlMs`.
import type { Redis } from 'ioredis'
import type { Author } from '../storage/index.js'
import type { Bus, BusEvent } from './bus.js'
import type { RedisLink } from './redis.js'

/** What the mirror tells the hub: a user came online on the first other node, or left the last. */
export interface PresenceSink {
  peerPresence: (roomId: number, user: Author, status: 'online' | 'offline') => void
}

interface Remote { author: Author, nodes: Set<string> }

export interface PeerPresenceOptions {
  /** A node not heard from for this long is gone (its entries expire in Redis at the same age). */
  ttlMs?: number
  log?: (message: string) => void
}

export class PeerPresence {
  readonly #redis: Redis
  readonly #key: string
  readonly #pattern: string
  readonly #bus: Bus
  readonly #sink: PresenceSink
  readonly #ttlMs: number
  readonly #log: (message: string) => void
  /** This node's entries: field → username. */
  readonly #own = new Map<string, string>()
  /** The other nodes' users, by room then user. */
  #rooms = new Map<number, Map<number, Remote>>()
  /** The other nodes, with when each was last heard from. */
  readonly #nodes = new Map<string, number>()
  #timer: ReturnType<typeof setInterval> | null = null

  constructor (link: RedisLink, bus: Bus, sink: PresenceSink, { ttlMs = 60_000, log = () => {} }: PeerPresenceOptions = {}) {
    this.#redis = link.client
    this.#key = `${link.prefix}presence:${link.node}`
    this.#pattern = `${link.prefix}presence:*`
    this.#bus = bus
    this.#sink = sink
    this.#ttlMs = ttlMs
    this.#log = log
  }

  /** Reads the other nodes' entries and starts refreshing this node's. */
  async start (): Promise<void> {
    await this.load()
    this.#timer = setInterval(() => this.#tick(), Math.max(100, Math.floor(this.#ttlMs / 3))).unref()
  }

  /** Users online in the room on other nodes. */
  usersIn (roomId: number): Author[] {
    const users = this.#rooms.get(roomId)
    return users === undefined ? [] : Array.from(users.values(), (r) => r.author)
  }

  has (roomId: number, userId: number): boolean {
    return this.#rooms.get(roomId)?.has(userId) ?? false
  }

  /** A user's first socket here joined the room, or their last one left it. */
  local (roomId: number, user: Author, status: 'online' | 'offline'): void {
    const field = `${roomId}:${user.id}`
    if (status === 'online') {
      this.#own.set(field, user.username)
      this.#redis.multi().hset(this.#key, field, user.username).pexpire(this.#key, this.#ttlMs).exec().catch(() => {})
    } else {
      this.#own.delete(field)
      this.#redis.hdel(this.#key, field).catch(() => {})
    }
    this.#bus.publish({ type: 'presence', roomId, user, status })
  }

  /** An event from another node. */
  onEvent (event: BusEvent, node: string): void {
    switch (event.type) {
      case 'presence':
        this.#heard(node)
        if (event.status === 'online') this.#add(this.#rooms, event.roomId, event.user, node, true)
        else this.#remove(event.roomId, event.user.id, node)
        return
      case 'alive':
        // A node that comes back after it was dropped (or that this node has not read yet).
        if (!this.#nodes.has(node)) void this.load()
        this.#heard(node)
        return
      case 'gone':
        this.#dropNode(node)
    }
  }

  /** Replaces the mirror with what Redis holds now, telling the hub what changed. */
  async load (): Promise<void> {
    const next = new Map<number, Map<number, Remote>>()
    const nodes = new Set<string>()
    let cursor = '0'
    do {
      const [after, keys] = await this.#redis.scan(cursor, 'MATCH', this.#pattern, 'COUNT', 200)
      cursor = after
      for (const key of keys) {
        const node = key.slice(this.#pattern.length - 1)
        if (key === this.#key) continue
        const entries = await this.#redis.hgetall(key)
        nodes.add(node)
        for (const [field, username] of Object.entries(entries)) {
          const [roomId, userId] = field.split(':').map(Number)
          if (Number.isSafeInteger(roomId) && Number.isSafeInteger(userId)) this.#add(next, roomId!, { id: userId!, username }, node, false)
        }
      }
    } while (cursor !== '0')
    const before = this.#rooms
    this.#rooms = next
    for (const node of nodes) this.#heard(node)
    for (const [roomId, users] of before) {
      for (const [userId, remote] of users) if (!this.has(roomId, userId)) this.#sink.peerPresence(roomId, remote.author, 'offline')
    }
    for (const [roomId, users] of next) {
      for (const [userId, remote] of users) if (before.get(roomId)?.has(userId) !== true) this.#sink.peerPresence(roomId, remote.author, 'online')
    }
  }

  /** Shutdown: this node's entries go at once, and the others are told. */
  async close (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#own.clear()
    this.#bus.publish({ type: 'gone' })
    await this.#redis.del(this.#key).catch(() => {})
  }

  #tick (): void {
    // Rewritten whole, so entries lost with a Redis restart come back.
    const multi = this.#redis.multi().del(this.#key)
    if (this.#own.size > 0) multi.hset(this.#key, Object.fromEntries(this.#own)).pexpire(this.#key, this.#ttlMs)
    multi.exec().catch(() => this.#log('could not refresh presence in Redis; will try again'))
    this.#bus.publish({ type: 'alive' })
    const stale = Date.now() - this.#ttlMs
    for (const [node, seen] of this.#nodes) if (seen < stale) this.#dropNode(node)
  }

  #heard (node: string): void {
    this.#nodes.set(node, Date.now())
  }

  #add (rooms: Map<number, Map<number, Remote>>, roomId: number, author: Author, node: string, tell: boolean): void {
    let users = rooms.get(roomId)
    if (users === undefined) rooms.set(roomId, users = new Map())
    const remote = users.get(author.id)
    if (remote !== undefined) {
      remote.nodes.add(node)
      return
    }
    users.set(author.id, { author, nodes: new Set([node]) })
    if (tell) this.#sink.peerPresence(roomId, author, 'online')
  }

  #remove (roomId: number, userId: number, node: string): void {
    const users = this.#rooms.get(roomId)
    const remote = users?.get(userId)
    if (remote === undefined || !remote.nodes.delete(node) || remote.nodes.size > 0) return
    users!.delete(userId)
    if (users!.size === 0) this.#rooms.delete(roomId)
    this.#sink.peerPresence(roomId, remote.author, 'offline')
  }

  #dropNode (node: string): void {
    this.#nodes.delete(node)
    for (const [roomId, users] of [...this.#rooms]) {
      for (const userId of [...users.keys()]) this.#remove(roomId, userId, node)
    }
  }
}
