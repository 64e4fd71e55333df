// Three real server processes, one database and one Redis: messages, rooms, presence, typing and
// logouts reach the sockets of every node, once. The database is one SQLite file (WAL works across
// processes on one machine), or a PostgreSQL schema under npm run test:pg.
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, settle, type Frame, type TestSocket } from '../realtime/ws-client.js'
import { name, post, register, startCluster, testRedis, type Cluster } from './cluster-helper.js'

let cluster: Cluster
let redis: Redis
let base: string[]

beforeAll(async () => {
  redis = await testRedis()
  cluster = await startCluster(3)
  base = cluster.nodes.map((node) => node.url)
}, 180_000)

afterAll(async () => {
  await cluster?.stop()
  redis?.disconnect()
})

const GENERAL = 1

async function joined (socket: TestSocket, roomId = GENERAL): Promise<Frame> {
  return socket.request({ type: 'join', roomId }, 'joined')
}

/** Waits until the socket has `count` message frames of the room (or times out). */
async function messagesIn (socket: TestSocket, roomId: number, count: number, timeoutMs = 10_000): Promise<Frame[]> {
  const deadline = Date.now() + timeoutMs
  while (socket.of('message', (f) => f.message.roomId === roomId).length < count && Date.now() < deadline) await settle(20)
  return socket.of('message', (f) => f.message.roomId === roomId)
}

describe('several nodes over Redis', () => {
  it(`the nodes share the store this run asked for (${process.env.TEST_DATABASE === 'postgres' ? 'PostgreSQL' : 'SQLite'})`, async () => {
    // PostgreSQL's disk is not the node's business: health says null there, a size on SQLite.
    for (const b of base) {
      const health = await (await fetch(`${b}/api/health`)).json() as { databaseDisk: unknown, redis: string | null }
      expect(health.redis).toBe('ok')
      if (cluster.store === 'postgres') expect(health.databaseDisk).toBeNull()
      else expect(health.databaseDisk).not.toBeNull()
    }
    expect(cluster.store).toBe(process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite')
  })

  it('a message sent on one node reaches the sockets on every node exactly once, in order', async () => {
    const alice = await register(base[0]!, name('alice'))
    const sockets = await Promise.all(base.map(async (b) => connect(b, alice.token)))
    for (const socket of sockets) await joined(socket)
    const sender = sockets[0]!
    const sent: number[] = []
    for (let i = 0; i < 20; i++) {
      const ack = await sender.request({ type: 'message', roomId: GENERAL, body: `hello ${i}`, clientId: `c${i}` }, 'ack')
      sent.push(ack.message.id)
    }
    // And through REST on another node.
    const res = await post(base[2]!, `/api/rooms/${GENERAL}/messages`, alice.token, { body: 'by rest' })
    expect(res.status, await res.clone().text()).toBe(201)
    sent.push((await res.json() as { message: { id: number } }).message.id)
    for (const socket of sockets) {
      const got = await messagesIn(socket, GENERAL, sent.length)
      await settle(300) // what would come twice has had time to come
      expect(socket.of('message', (f) => f.message.roomId === GENERAL).map((f) => f.message.id)).toEqual(sent)
      expect(got.at(-1)!.message.body).toBe('by rest')
    }
    for (const socket of sockets) await socket.close()
  })

  it('a new room is announced on every node', async () => {
    const bob = await register(base[1]!, name('bob'))
    const sockets = await Promise.all(base.map(async (b) => connect(b, bob.token)))
    const res = await post(base[1]!, '/api/rooms', bob.token, { name: name('room') })
    expect(res.status).toBe(201)
    const { room } = await res.json() as { room: { id: number } }
    for (const socket of sockets) {
      await socket.waitFor((f) => f.type === 'room' && f.room.id === room.id, { timeoutMs: 5000 })
      await socket.sync()
      expect(socket.of('room', (f) => f.room.id === room.id)).toHaveLength(1)
    }
    for (const socket of sockets) await socket.close()
  })

  it('presence: joined lists users on every node; online and offline frames cross nodes, once per user', async () => {
    const owner = await register(base[0]!, name('owner'))
    const roomRes = await post(base[0]!, '/api/rooms', owner.token, { name: name('presence') })
    const { room } = await roomRes.json() as { room: { id: number } }
    const carol = await register(base[0]!, name('carol'))
    const dave = await register(base[1]!, name('dave'))
    // The owner watches from nodes B and C: when their sockets hear of carol, so has each node.
    const watchers = [await connect(base[1]!, owner.token), await connect(base[2]!, owner.token)]
    for (const watcher of watchers) await joined(watcher, room.id)
    const onA = await connect(base[0]!, carol.token)
    await joined(onA, room.id)
    for (const watcher of watchers) await watcher.waitFor((f) => f.type === 'presence' && f.user.id === carol.id && f.status === 'online', { timeoutMs: 5000 })
    const onB = await connect(base[1]!, dave.token)
    // Carol is online on node A only: node B lists her.
    const seen = await joined(onB, room.id)
    expect(seen.online.map((u: { id: number }) => u.id).sort()).toEqual([owner.id, carol.id, dave.id].sort())
    await onA.waitFor((f) => f.type === 'presence' && f.user.id === dave.id && f.status === 'online', { timeoutMs: 5000 })
    // Dave opens a second socket on node C: he was online already, so nobody is told again.
    const onC = await connect(base[2]!, dave.token)
    const alsoSeen = await joined(onC, room.id)
    expect(alsoSeen.online.map((u: { id: number }) => u.id).sort()).toEqual([owner.id, carol.id, dave.id].sort())
    // Typing on node A reaches node B and C (not carol's own sockets).
    onA.send({ type: 'typing', roomId: room.id, isTyping: true })
    await onB.waitFor((f) => f.type === 'typing' && f.user.id === carol.id && f.isTyping === true, { timeoutMs: 5000 })
    await onC.waitFor((f) => f.type === 'typing' && f.user.id === carol.id && f.isTyping === true, { timeoutMs: 5000 })
    // Dave leaves node B but is still on node C: still online.
    await onB.close()
    await settle(500)
    await onA.sync()
    expect(onA.of('presence', (f) => f.user.id === dave.id)).toHaveLength(1)
    // ...and then leaves C too: offline, once.
    await onC.close()
    await onA.waitFor((f) => f.type === 'presence' && f.user.id === dave.id && f.status === 'offline', { timeoutMs: 5000 })
    await settle(300)
    expect(onA.of('presence', (f) => f.user.id === dave.id).map((f) => f.status)).toEqual(['online', 'offline'])
    await onA.close()
    for (const watcher of watchers) await watcher.close()
  })

  it('a logout on node B closes that token\'s sockets on node A (4001), and node C refuses it', async () => {
    const erin = await register(base[0]!, name('erin'))
    const onA = await connect(base[0]!, erin.token)
    const res = await post(base[1]!, '/api/auth/logout', erin.token, {})
    expect(res.status).toBe(204)
    const closed = await Promise.race([onA.closed, settle(5000).then(() => null)])
    expect(closed?.code).toBe(4001)
    const me = await fetch(`${base[2]!}/api/me`, { headers: { authorization: `Bearer ${erin.token}` } })
    expect(me.status).toBe(401)
  })

  it('bus loss: with the pub/sub connections killed mid-stream, every socket still gets every message once, in order', async () => {
    const frank = await register(base[0]!, name('frank'))
    const roomRes = await post(base[0]!, '/api/rooms', frank.token, { name: name('loss') })
    const { room } = await roomRes.json() as { room: { id: number } }
    const sockets = await Promise.all(base.map(async (b) => connect(b, frank.token)))
    for (const socket of sockets) await joined(socket, room.id)
    const sent: number[] = []
    const send = async (node: number, i: number): Promise<void> => {
      const res = await post(base[node]!, `/api/rooms/${room.id}/messages`, frank.token, { body: `m${i}`, clientId: `loss${i}` })
      expect(res.status).toBe(201)
      sent.push((await res.json() as { message: { id: number } }).message.id)
    }
    // Two writers on two nodes, with the subscribers cut off twice while they write; the last
    // messages go out while the subscriptions are still down, so only the catch-up can bring them.
    let i = 0
    for (; i < 10; i++) await Promise.all([send(0, 2 * i), send(1, 2 * i + 1)])
    expect(await redis.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(3)
    for (; i < 20; i++) await Promise.all([send(0, 2 * i), send(1, 2 * i + 1)])
    await redis.client('KILL', 'TYPE', 'pubsub')
    for (; i < 22; i++) await Promise.all([send(2, 2 * i), send(1, 2 * i + 1)])
    sent.sort((a, b) => a - b)
    for (const socket of sockets) {
      // The catch-up waits for ioredis to reconnect, whose backoff grows on a loaded machine.
      await messagesIn(socket, room.id, sent.length, 30_000)
      await settle(500)
      expect(socket.of('message', (f) => f.message.roomId === room.id).map((f) => f.message.id)).toEqual(sent)
    }
    for (const socket of sockets) await socket.close()
  }, 60_000)
})
