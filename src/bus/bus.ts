// The doorbell between nodes: committed events published on one Redis channel, heard by every
// node. It may lose events (a node cut off from Redis, a killed connection): whoever hears it
// must be able to catch up from the database (seq-tracker.ts). Two connections: publishing goes
// through the command client (app.redis), subscribing needs one of its own.
import { EventEmitter } from 'node:events'
import { Redis } from 'ioredis'
import { z } from 'zod'
import type { Audience, ConversationFrame, RemovalReason } from '../events.js'
import { AuthorSchema, MemberSchema, MessageSchema, RoomSchema } from '../schemas.js'
import type { Author, Message } from '../storage/index.js'
import type { RedisLink } from './redis.js'

export type BusEvent =
  | { type: 'message', message: Message }
  | { type: 'message_updated', message: Message }
  | { type: 'mention', message: Message, userIds: number[] }
  | { type: 'receipt', roomId: number, user: Author, lastReadId: number }
  | { type: 'conversation', frame: ConversationFrame, audience: Audience }
  | { type: 'removed', roomId: number, userId: number, reason: RemovalReason }
  | { type: 'revoked', jti: string }
  | { type: 'presence', roomId: number, user: Author, status: 'online' | 'offline' }
  | { type: 'typing', roomId: number, user: Author, isTyping: boolean }
  /** The node is alive (its presence entries are fresh). */
  | { type: 'alive' }
  /** The node is shutting down: its users are offline now. */
  | { type: 'gone' }
  /** The node could not publish for a while: the others catch up from the database. */
  | { type: 'resync' }

const RoomId = z.number().int().positive()
// Anyone who can reach the Redis can publish: what comes in is checked like any other input.
const BusEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), message: MessageSchema }),
  z.object({ type: z.literal('message_updated'), message: MessageSchema }),
  z.object({ type: z.literal('mention'), message: MessageSchema, userIds: z.array(z.number().int().positive()).max(100) }),
  z.object({ type: z.literal('receipt'), roomId: RoomId, user: AuthorSchema, lastReadId: z.number().int().positive() }),
  z.object({
    type: z.literal('conversation'),
    frame: z.discriminatedUnion('type', [
      z.object({ type: z.literal('room'), room: RoomSchema }),
      z.object({ type: z.literal('room_updated'), room: RoomSchema }),
      z.object({ type: z.literal('member'), roomId: RoomId, member: MemberSchema.nullable(), userId: RoomId, change: z.enum(['added', 'removed', 'banned', 'role']) })
    ]),
    audience: z.object({
      everyone: z.boolean().optional(),
      userIds: z.array(RoomId).max(100_000).optional(),
      admins: z.boolean().optional(),
      roomId: RoomId.optional()
    })
  }),
  z.object({ type: z.literal('removed'), roomId: RoomId, userId: RoomId, reason: z.enum(['left', 'kicked', 'banned']) }),
  z.object({ type: z.literal('revoked'), jti: z.string().min(1).max(200) }),
  z.object({ type: z.literal('presence'), roomId: RoomId, user: AuthorSchema, status: z.enum(['online', 'offline']) }),
  z.object({ type: z.literal('typing'), roomId: RoomId, user: AuthorSchema, isTyping: z.boolean() }),
  z.object({ type: z.literal('alive') }),
  z.object({ type: z.literal('gone') }),
  z.object({ type: z.literal('resync') })
])
const Envelope = z.object({ node: z.string().min(1).max(100), event: BusEventSchema })

export interface BusEventMap {
  /** An event from another node (this node's own never come back). */
  event: [event: BusEvent, node: string]
  /** Events may have been missed (this node's subscription or another node's publishing was cut off, and is back). */
  resumed: []
}

export interface BusLog {
  warn: (message: string) => void
  error: (message: string) => void
}

export class Bus extends EventEmitter<BusEventMap> {
  readonly #link: RedisLink
  readonly #sub: Redis
  readonly #channel: string
  readonly #log: BusLog
  #subscribed = false
  #subLost = false
  #pubLost = false
  #closed = false

  constructor (link: RedisLink, log: BusLog) {
    super()
    this.#link = link
    this.#log = log
    this.#channel = `${link.prefix}events`
    this.#sub = new Redis(link.url, { ...link.options, connectionName: `${link.prefix}bus:${link.node}` })
    this.#sub.on('error', () => {}) // the command client logs outages once
    this.#sub.on('close', () => {
      if (this.#subscribed) this.#subLost = true
    })
    // ioredis subscribes again by itself after a reconnect; this waits for that to be confirmed,
    // so that the catch-up reads the database only once nothing more can be missed.
    this.#sub.on('ready', () => {
      if (!this.#subLost || this.#closed) return
      this.#subLost = false
      this.#sub.subscribe(this.#channel).then(() => this.emit('resumed'), () => { this.#subLost = true })
    })
    this.#sub.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#receive(text)
    })
    const client = link.client
    client.on('close', () => { this.#pubLost = true })
    client.on('ready', () => {
      if (!this.#pubLost || this.#closed) return
      this.#pubLost = false
      this.publish({ type: 'resync' })
    })
  }

  get node (): string {
    return this.#link.node
  }

  async start (): Promise<void> {
    await this.#sub.connect()
    await this.#sub.subscribe(this.#channel)
    this.#subscribed = true
  }

  /** Fire and forget: a publish that fails is caught up from the database by the others. */
  publish (event: BusEvent): void {
    if (this.#closed) return
    this.#link.client.publish(this.#channel, JSON.stringify({ node: this.#link.node, event }))
      .catch(() => { this.#pubLost = true })
  }

  async close (): Promise<void> {
    this.#closed = true
    this.removeAllListeners()
    await this.#sub.quit().catch(() => this.#sub.disconnect())
  }

  #receive (text: string): void {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      return this.#log.warn('bus: a message that is not JSON was ignored')
    }
    const parsed = Envelope.safeParse(data)
    if (!parsed.success) return this.#log.warn('bus: a message in an unknown shape was ignored')
    const { node, event } = parsed.data
    if (node === this.#link.node) return // delivered here already, when it was committed
    this.emit('event', event as BusEvent, node)
  }
}
