// One node of several (REDIS_URL set): what realtime/relay.ts does for one node, plus the bus.
// This node's events go to its own sockets and out on the bus; the other nodes' events come in
// from the bus to the sockets here. Messages from both pass one SeqTracker per room, so each socket
// gets each message once, in room order, and what the bus lost is read from the database.
import type { FastifyInstance } from 'fastify'
import type { Audience, ConversationFrame, RemovalReason } from '../events.js'
import type { Author, Message, Storage } from '../storage/index.js'
import { CloseCode, type Hub } from '../realtime/hub.js'
import { Bus, type BusEvent } from './bus.js'
import { PeerPresence } from './presence.js'
import type { RedisLink } from './redis.js'
import { SeqTracker } from './seq-tracker.js'
import { NodeSockets } from './sockets.js'

/** How long a gap in a room's seqs may stay open before the database is asked. */
const GAP_MS = 250
/** Messages read from the database per query while catching up. */
const FILL_PAGE = 500

/** Every message of the room after `after` (a seq), read from the record in pages. */
async function recordAfter (storage: Storage, roomId: number, after: number): Promise<Message[]> {
  const out: Message[] = []
  let page
  do {
    page = await storage.messages.afterSeq(roomId, out.at(-1)?.seq ?? after, FILL_PAGE)
    out.push(...page.messages)
  } while (page.hasMore)
  return out
}

/** The room's newest seq (where a node starts tracking it) and its newest message id. */
async function recordHead (storage: Storage, roomId: number): Promise<{ seq: number, newestId: number }> {
  const seq = (await storage.rooms.get(roomId))?.lastSeq ?? 0
  const newest = await storage.messages.history(roomId, { limit: 1 })
  return { seq, newestId: newest.messages.at(-1)?.id ?? 0 }
}

export interface Cluster {
  /** Stops listening and leaves the cluster (this node's presence goes at once). */
  stop: () => void
}

export async function startCluster (app: FastifyInstance, hub: Hub, link: RedisLink): Promise<Cluster> {
  const { events, storage, log } = app
  const bus = new Bus(link, { warn: (m) => log.warn(m), error: (m) => log.error(m) })
  const presence = new PeerPresence(link, bus, hub, { log: (m) => log.warn(m) })
  const sockets = new NodeSockets(link)
  // Sends and changes share one seq order per room. Ids grow in commit order within a room, so a
  // message above the newest id delivered here is new to these sockets (`message`); anything
  // else is a change to one they have (`message_updated`), wherever it came from (bus or record).
  const newestId = new Map<number, number>()
  const tracker = new SeqTracker<Message>({
    seqOf: (message) => message.seq,
    deliver: (roomId, message) => {
      if (message.id > (newestId.get(roomId) ?? 0)) {
        newestId.set(roomId, message.id)
        hub.message({ type: 'message', message })
      } else {
        hub.roomFrame(roomId, { type: 'message_updated', message })
      }
    },
    fill: (roomId, after) => recordAfter(storage, roomId, after),
    head: async (roomId) => {
      const head = await recordHead(storage, roomId)
      newestId.set(roomId, Math.max(newestId.get(roomId) ?? 0, head.newestId))
      return head.seq
    },
    gapMs: GAP_MS,
    onError: (error, roomId) => log.warn({ err: error, roomId }, 'could not catch up a room from the database; will try again')
  })
  const toTracker = (message: Message): void => tracker.offer(message.roomId, message)

  hub.peers = {
    usersIn: (roomId) => presence.usersIn(roomId),
    has: (roomId, userId) => presence.has(roomId, userId),
    local: (roomId, user, status) => presence.local(roomId, user, status),
    typing: (roomId: number, user: Author, isTyping: boolean) => bus.publish({ type: 'typing', roomId, user, isTyping }),
    roomOpened: (roomId) => tracker.watch(roomId),
    roomClosed: (roomId) => {
      tracker.unwatch(roomId)
      newestId.delete(roomId)
    },
    sockets: (userId, count) => sockets.changed(userId, count),
    socketsEverywhere: async (userId) => sockets.count(userId)
  }

  // This node's events, after commit.
  const onMessage = (message: Message): void => {
    toTracker(message)
    bus.publish({ type: 'message', message })
  }
  const onUpdated = (message: Message): void => {
    toTracker(message)
    bus.publish({ type: 'message_updated', message })
  }
  const onMention = (message: Message, userIds: readonly number[]): void => {
    hub.toUsers(userIds, { type: 'mention', message })
    bus.publish({ type: 'mention', message, userIds: [...userIds] })
  }
  const onReceipt = (r: { roomId: number, user: Author, lastReadId: number }): void => {
    hub.roomFrame(r.roomId, { type: 'receipt', ...r })
    bus.publish({ type: 'receipt', ...r })
  }
  const onConversation = (frame: ConversationFrame, audience: Audience): void => {
    hub.deliver(frame, audience)
    bus.publish({ type: 'conversation', frame, audience })
  }
  const onRemoved = (roomId: number, userId: number, reason: RemovalReason): void => {
    hub.removeUser(roomId, userId, reason)
    bus.publish({ type: 'removed', roomId, userId, reason })
  }
  const onRevoked = (jti: string): void => {
    hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
    bus.publish({ type: 'revoked', jti })
  }
  // The other nodes' events.
  const onBus = (event: BusEvent, node: string): void => {
    switch (event.type) {
      case 'message': return toTracker(event.message)
      case 'message_updated': return toTracker(event.message)
      case 'mention': return hub.toUsers(event.userIds, { type: 'mention', message: event.message })
      case 'receipt': return hub.roomFrame(event.roomId, { type: 'receipt', roomId: event.roomId, user: event.user, lastReadId: event.lastReadId })
      case 'conversation': return hub.deliver(event.frame, event.audience)
      case 'removed': return hub.removeUser(event.roomId, event.userId, event.reason)
      case 'revoked': return hub.closeToken(event.jti, CloseCode.unauthorized, 'logged out')
      case 'typing': return hub.peerTyping(event.roomId, event.user, event.isTyping)
      case 'resync': return resync()
      default: return presence.onEvent(event, node)
    }
  }
  const resync = (): void => {
    tracker.pokeAll()
    presence.load().catch((error: unknown) => log.warn({ err: error }, 'could not read presence from Redis'))
  }

  bus.on('event', onBus)
  bus.on('resumed', () => {
    log.info('bus subscription back; catching up every room from the database')
    resync()
  })
  await bus.start()
  await presence.start()
  await sockets.start()
  events.on('message', onMessage)
  events.on('conversation', onConversation)
  events.on('removed', onRemoved)
  events.on('revoked', onRevoked)
  events.on('message_updated', onUpdated)
  events.on('mention', onMention)
  events.on('receipt', onReceipt)

  let stopped = false
  return {
    stop () {
      if (stopped) return
      stopped = true
      events.off('message', onMessage)
      events.off('conversation', onConversation)
      events.off('removed', onRemoved)
      events.off('revoked', onRevoked)
      events.off('message_updated', onUpdated)
      events.off('mention', onMention)
      events.off('receipt', onReceipt)
      tracker.clear()
      hub.peers = null
      void Promise.all([presence.close(), sockets.close()]).finally(async () => bus.close())
    }
  }
}
