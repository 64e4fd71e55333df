// Presence between two nodes in one process (real Redis, a short TTL): a node that stops
// refreshing drops out of the other's mirror and out of Redis by itself.
import { randomBytes, randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { Bus } from '../../src/bus/bus.js'
import { PeerPresence } from '../../src/bus/presence.js'
import type { RedisLink } from '../../src/bus/redis.js'
import { settle } from '../realtime/ws-client.js'
import { REDIS_URL, testRedis } from './cluster-helper.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function node (prefix: string, ttlMs: number) {
  const client = await testRedis()
  const link: RedisLink = { client, prefix, node: randomUUID(), options: { lazyConnect: true }, url: REDIS_URL }
  const bus = new Bus(link, { warn: () => {}, error: () => {} })
  const frames: string[] = []
  const presence = new PeerPresence(link, bus, { peerPresence: (roomId, user, status) => frames.push(`${roomId}:${user.username}:${status}`) }, { ttlMs })
  bus.on('event', (event, from) => presence.onEvent(event, from))
  bus.on('resumed', () => { void presence.load() }) // as the cluster does (nodes.test.ts kills pub/sub connections)
  await bus.start()
  await presence.start()
  cleanup.push(async () => { await presence.close(); await bus.close(); client.disconnect() })
  return { link, bus, presence, frames, client }
}

async function until (check: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !check() && Date.now() < deadline;) await settle(20)
}

describe('presence across nodes', () => {
  it('mirrors the other node, reads it at start, and forgets a node that stops refreshing', async () => {
    const prefix = `test-${randomBytes(6).toString('hex')}:`
    const a = await node(prefix, 900)
    const b = await node(prefix, 900)
    b.presence.local(7, { id: 1, username: 'ann' }, 'online')
    await until(() => a.presence.has(7, 1))
    expect(a.presence.usersIn(7)).toEqual([{ id: 1, username: 'ann' }])
    expect(a.frames).toEqual(['7:ann:online'])
    // A node that starts later reads what is there.
    const c = await node(prefix, 900)
    expect(c.presence.usersIn(7)).toEqual([{ id: 1, username: 'ann' }])
    // Node b goes silent (its connections cut, as when it is killed): gone within the TTL.
    await b.bus.close()
    b.client.disconnect()
    await until(() => !a.presence.has(7, 1), 3000)
    expect(a.frames).toEqual(['7:ann:online', '7:ann:offline'])
    expect(c.presence.has(7, 1)).toBe(false)
    const redis = await testRedis()
    cleanup.push(() => redis.disconnect())
    let exists = 1
    for (const deadline = Date.now() + 2000; exists === 1 && Date.now() < deadline; await settle(50)) exists = await redis.exists(`${prefix}presence:${b.link.node}`)
    expect(exists).toBe(0) // expired in Redis too: a node starting now would not list ann
  })

  it('a clean shutdown takes the node\'s users offline at once', async () => {
    const prefix = `test-${randomBytes(6).toString('hex')}:`
    const a = await node(prefix, 60_000)
    const b = await node(prefix, 60_000)
    b.presence.local(3, { id: 2, username: 'bo' }, 'online')
    await until(() => a.presence.has(3, 2))
    await b.presence.close()
    await until(() => !a.presence.has(3, 2), 2000)
    expect(a.frames).toEqual(['3:bo:online', '3:bo:offline'])
  })
})
