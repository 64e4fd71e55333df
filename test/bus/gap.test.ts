// A slow commit on one node while another node writes to the same room (PostgreSQL): a reader
// paging with after= (and a socket) never skips the slow message. With ids from a bare sequence
// and no lock, node B's later messages would commit first with higher ids, and a cursor past them
// would never see node A's. The slowness comes from a trigger in the test's own schema, so the
// server runs exactly as in production: node A's transaction sleeps after its insert, with the
// room's counter row locked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, settle } from '../realtime/ws-client.js'
import { name, post, register, startCluster, testRedis, type Cluster } from './cluster-helper.js'

const SLOW_S = 1.5

let cluster: Cluster
let a: string
let b: string

beforeAll(async () => {
  (await testRedis()).disconnect()
  cluster = await startCluster(2, {}, { store: 'postgres' })
  ;[a, b] = cluster.nodes.map((node) => node.url) as [string, string]
  const sql = cluster.schema!.sql
  await sql.unsafe(`CREATE FUNCTION slow_commit () RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(${SLOW_S}); RETURN NEW; END $$`)
  await sql.unsafe(`CREATE TRIGGER slow_commit AFTER INSERT ON messages FOR EACH ROW
    WHEN (NEW.client_id LIKE 'slow-%') EXECUTE FUNCTION slow_commit()`)
}, 180_000)

afterAll(async () => cluster?.stop())

interface Seen { id: number, seq: number, clientId: string | null }

describe('a slow commit on one node, writes on another (PostgreSQL)', () => {
  it('a reader paging with after= and a socket see every message, in seq order, none skipped', async () => {
    const user = await register(a, name('gap'))
    const roomRes = await post(a, '/api/rooms', user.token, { name: name('gap') })
    const { room } = await roomRes.json() as { room: { id: number } }
    const socket = await connect(b, user.token)
    await socket.request({ type: 'join', roomId: room.id }, 'joined')

    // The reader: pages after the last id it has, as a client catching up does, all the time.
    const read: Seen[] = []
    const jumps: string[] = []
    let reading = true
    const reader = (async () => {
      while (reading) {
        const after = read.at(-1)?.id ?? 0
        const res = await fetch(`${b}/api/rooms/${room.id}/messages?after=${after}&limit=100`, { headers: { authorization: `Bearer ${user.token}` } })
        const page = await res.json() as { messages: Seen[] }
        for (const m of page.messages) {
          if (m.seq !== (read.at(-1)?.seq ?? 0) + 1) jumps.push(`seq ${m.seq} after ${read.at(-1)?.seq ?? 0}`)
          read.push({ id: m.id, seq: m.seq, clientId: m.clientId })
        }
        await settle(10)
      }
    })()

    const send = async (base: string, clientId: string): Promise<{ ms: number, seq: number }> => {
      const started = Date.now()
      const res = await post(base, `/api/rooms/${room.id}/messages`, user.token, { body: clientId, clientId })
      expect(res.status, await res.clone().text()).toBe(201)
      return { ms: Date.now() - started, seq: (await res.json() as { message: { seq: number } }).message.seq }
    }
    for (let i = 0; i < 5; i++) await send(b, `before-${i}`)
    await settle(100) // the reader's cursor is past them

    // Node A's commit hangs with the room locked; node B writes meanwhile.
    const slow = send(a, 'slow-1')
    await settle(300)
    const during = await Promise.all(Array.from({ length: 10 }, async (_, i) => send(b, `during-${i}`)))
    const slowDone = await slow
    for (let i = 0; i < 5; i++) await send(b, `after-${i}`)

    // It did overlap: A's transaction was slow, B's writes waited for it and came after it.
    expect(slowDone.ms).toBeGreaterThanOrEqual(SLOW_S * 1000 - 100)
    expect(Math.min(...during.map((d) => d.seq))).toBeGreaterThan(slowDone.seq)
    expect(Math.max(...during.map((d) => d.ms))).toBeGreaterThan(SLOW_S * 1000 - 600)

    const stored = await cluster.schema!.sql<Array<{ id: string, seq: string }>>`SELECT id, seq FROM messages WHERE room_id = ${room.id} ORDER BY seq`
    expect(stored.map((row) => Number(row.seq))).toEqual(stored.map((_, i) => i + 1))
    const want = stored.map((row) => Number(row.id))
    for (const deadline = Date.now() + 5000; read.length < want.length && Date.now() < deadline;) await settle(20)
    reading = false
    await reader
    expect(jumps).toEqual([])
    expect(read.map((m) => m.id)).toEqual(want)
    expect(read.find((m) => m.clientId === 'slow-1')).toBeDefined()

    for (const deadline = Date.now() + 5000; socket.of('message').length < want.length && Date.now() < deadline;) await settle(20)
    await settle(300)
    expect(socket.of('message').map((f) => f.message.id)).toEqual(want)
    await socket.close()
  })
})
