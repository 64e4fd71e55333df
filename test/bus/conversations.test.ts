// Conversations across nodes: a member added on one node sees the room live on another, and a
// kick on one node unsubscribes the person's sockets on every node at once (`removed`, then
// nothing more from the room). Two real server processes, one SQLite file, one Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, settle } from '../realtime/ws-client.js'
import { name, post, register, startCluster, type Cluster } from './cluster-helper.js'

let cluster: Cluster
let base: string[]
beforeAll(async () => {
  cluster = await startCluster(2)
  base = cluster.nodes.map((node) => node.url)
}, 60_000)
afterAll(async () => cluster?.stop())

describe('conversations on several nodes', () => {
  it('adding and kicking reach the person’s sockets on the other node', async () => {
    await register(base[0]!, name('root')) // the first account is the administrator: keep the others plain
    const alice = await register(base[0]!, name('alice'))
    const bob = await register(base[1]!, name('bob'))
    const created = await post(base[0]!, '/api/rooms', alice.token, { name: name('secret'), visibility: 'private' })
    const roomId = (await created.json() as { room: { id: number } }).room.id
    const b = await connect(base[1]!, bob.token)
    const a = await connect(base[0]!, alice.token)
    expect((await post(base[0]!, `/api/rooms/${roomId}/members`, alice.token, { userId: bob.id })).status).toBe(201)
    expect((await b.waitFor((f) => f.type === 'room', { timeoutMs: 5000 })).room).toMatchObject({ id: roomId, kind: 'private' })
    await b.request({ type: 'join', roomId }, 'joined')
    await a.request({ type: 'join', roomId }, 'joined')
    await a.request({ type: 'message', roomId, body: 'before', clientId: 'c1' }, 'ack')
    await b.waitFor((f) => f.type === 'message' && f.message.body === 'before', { timeoutMs: 5000 })

    const kick = await fetch(`${base[0]!}/api/rooms/${roomId}/members/${bob.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.token}` } })
    expect(kick.status).toBe(204)
    expect(await b.waitFor((f) => f.type === 'removed', { timeoutMs: 5000 })).toEqual({ type: 'removed', roomId, reason: 'kicked' })
    await a.request({ type: 'message', roomId, body: 'after', clientId: 'c2' }, 'ack')
    await settle(500)
    expect(b.frames.filter((f) => f.type === 'message' && f.message.body === 'after')).toEqual([])
    expect((await b.request({ type: 'join', roomId }, 'error')).code).toBe('room_not_found')
    await a.close()
    await b.close()
  })
})
