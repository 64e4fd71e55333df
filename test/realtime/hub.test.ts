// The hub on its own, with fake sockets and a fake clock: indexes, presence, typing expiry,
// fan-out, slow consumers, heartbeats.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Client, Hub, OPEN, type HubSocket } from '../../src/realtime/hub.js'
import type { Message } from '../../src/storage/index.js'

class FakeSocket implements HubSocket {
  readyState = OPEN
  bufferedAmount = 0
  sent: string[] = []
  closedWith: number | null = null
  terminated = false
  pings = 0
  send (data: string): void { this.sent.push(data) }
  close (code: number): void { this.closedWith = code; this.readyState = 2 }
  terminate (): void { this.terminated = true; this.readyState = 3 }
  ping (): void { this.pings++ }
  frames (): any[] { return this.sent.map((s) => JSON.parse(s)) }
}

const FAR = Math.floor(Date.now() / 1000) + 3600
let nextId = 1
function client (hub: Hub, userId: number, jti = `t${nextId++}`, exp = FAR): [Client, FakeSocket] {
  const socket = new FakeSocket()
  const c = new Client(socket, { id: userId, username: `u${userId}` }, jti, exp)
  hub.add(c)
  return [c, socket]
}
const message = (roomId: number, authorId: number, id = 1): Message =>
  ({ id, roomId, author: { id: authorId, username: `u${authorId}` }, body: 'b', attachment: null, clientId: null, createdAt: '', seq: id, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null })

afterEach(() => { vi.restoreAllMocks() })

describe('Hub', () => {
  it('corks each TCP socket for the turn, so a turn\'s frames leave in one write', async () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const [a, socket] = client(hub, 1)
    const tcp = { corks: 0, uncorks: 0, writableCorked: 0, writableLength: 0, cork () { this.corks++; this.writableCorked++ }, uncork () { this.uncorks++; this.writableCorked-- } }
    Object.assign(socket, { _socket: tcp })
    hub.join(a, 1)
    hub.message({ type: 'message', message: message(1, 2, 1) })
    hub.message({ type: 'message', message: message(1, 2, 2) })
    hub.send(a, { type: 'pong' })
    expect(socket.sent).toHaveLength(3)
    expect(tcp).toMatchObject({ corks: 1, uncorks: 0 })
    await new Promise((resolve) => process.nextTick(resolve))
    expect(tcp).toMatchObject({ corks: 1, uncorks: 1, writableCorked: 0 })
  })

  it('keeps both indexes in step and deletes empty rooms', () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const [a] = client(hub, 1)
    expect(hub.join(a, 7)).toEqual([{ id: 1, username: 'u1' }])
    expect(hub.join(a, 7)).toHaveLength(1) // joining twice is harmless
    hub.join(a, 8)
    expect([...a.rooms]).toEqual([7, 8])
    expect(hub.hasRoom(7)).toBe(true)
    expect(hub.leave(a, 7)).toBe(true)
    expect(hub.leave(a, 7)).toBe(false)
    expect(hub.hasRoom(7)).toBe(false)
    hub.remove(a)
    expect(hub.hasRoom(8)).toBe(false)
    expect(hub.size).toBe(0)
    expect(hub.socketsOf(1)).toBe(0)
  })

  it('presence is per user across sockets', () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const [other, otherSocket] = client(hub, 2)
    hub.join(other, 1)
    const [tab1] = client(hub, 1)
    const [tab2] = client(hub, 1)
    hub.join(tab1, 1)
    hub.join(tab2, 1)
    expect(otherSocket.frames().filter((f) => f.type === 'presence')).toEqual([{ type: 'presence', roomId: 1, user: { id: 1, username: 'u1' }, status: 'online' }])
    hub.remove(tab1)
    expect(otherSocket.frames().filter((f) => f.status === 'offline')).toHaveLength(0)
    hub.remove(tab2)
    expect(otherSocket.frames().filter((f) => f.status === 'offline')).toHaveLength(1)
  })

  it('typing: alternating true and false cannot get past the throttle', () => {
    const hub = new Hub({ maxBufferBytes: 1e6, typingTtlMs: 5000, typingThrottleMs: 2000 })
    const [a] = client(hub, 1)
    const [b, bSocket] = client(hub, 2)
    hub.join(a, 1)
    hub.join(b, 1)
    for (let t = 0; t < 1000; t += 10) hub.typing(a, 1, t % 20 === 0, t)
    const relayed = bSocket.frames().filter((f) => f.type === 'typing').map((f) => f.isTyping)
    expect(relayed).toEqual([true, false])
  })

  it('typing: relayed to other users, throttled per user and room, expired after silence', () => {
    const hub = new Hub({ maxBufferBytes: 1e6, typingTtlMs: 5000, typingThrottleMs: 2000 })
    const [a, aSocket] = client(hub, 1)
    const [b, bSocket] = client(hub, 2)
    hub.join(a, 1)
    hub.join(b, 1)
    const typing = () => bSocket.frames().filter((f) => f.type === 'typing').map((f) => f.isTyping)
    hub.typing(a, 1, true, 0)
    hub.typing(a, 1, true, 1000) // throttled, but keeps it alive until 6000
    expect(typing()).toEqual([true])
    hub.typing(a, 1, true, 2500) // past the throttle: relayed again, alive until 7500
    expect(typing()).toEqual([true, true])
    hub.sweepTyping(7000)
    expect(typing()).toEqual([true, true])
    hub.sweepTyping(7500)
    expect(typing()).toEqual([true, true, false])
    hub.sweepTyping(20_000) // nothing left to expire
    expect(typing()).toHaveLength(3)
    expect(aSocket.frames().filter((f) => f.type === 'typing')).toHaveLength(0)

    hub.typing(a, 1, true, 30_000)
    hub.message({ type: 'message', message: message(1, 1) }) // sending ends typing without another frame
    hub.sweepTyping(60_000)
    expect(typing()).toEqual([true, true, false, true])
    hub.typing(a, 1, true, 61_000)
    hub.remove(a) // leaving ends it, with isTyping:false before the offline presence
    expect(bSocket.frames().slice(-2).map((f) => f.type === 'typing' ? f.isTyping : f.status)).toEqual([false, 'offline'])
  })

  it('serialises once per broadcast, sends only to open sockets in the room', () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const sockets = [1, 2, 3, 4].map((id) => client(hub, id))
    for (const [c] of sockets.slice(0, 3)) hub.join(c, 1)
    for (const [, s] of sockets) s.sent = [] // the presence frames of the joins
    sockets[2]![1].readyState = 2 // closing
    const stringify = vi.spyOn(JSON, 'stringify')
    hub.message({ type: 'message', message: message(1, 1) })
    expect(stringify).toHaveBeenCalledTimes(1)
    expect(sockets.map(([, s]) => s.sent.length)).toEqual([1, 1, 0, 0])
    expect(sockets[0]![1].sent[0]).toBe(sockets[1]![1].sent[0])
    hub.broadcastAll({ type: 'pong' })
    expect(stringify).toHaveBeenCalledTimes(2)
    hub.message({ type: 'message', message: message(99, 1) }) // nobody there: no work
    expect(stringify).toHaveBeenCalledTimes(2)
  })

  it('closes a socket that falls behind with 1013, after the broadcast, and forgets it', () => {
    const hub = new Hub({ maxBufferBytes: 100 })
    const [slow, slowSocket] = client(hub, 1)
    const [fast, fastSocket] = client(hub, 2)
    hub.join(slow, 1)
    hub.join(fast, 1)
    slowSocket.bufferedAmount = 101
    hub.message({ type: 'message', message: message(1, 2) })
    expect(slowSocket.closedWith).toBe(1013)
    expect(hub.client(slowSocket)).toBeUndefined()
    expect(fastSocket.frames().map((f) => f.type)).toEqual(['message', 'presence']) // the offline comes after the message
  })

  it('heartbeat: pings, terminates who did not pong, closes expired tokens with 4001', () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const now = Date.now()
    const [answering, s1] = client(hub, 1)
    const [, s2] = client(hub, 2)
    const [, s3] = client(hub, 3, 'x', Math.floor(now / 1000) - 1)
    hub.heartbeat(now)
    expect([s1.pings, s2.pings]).toEqual([1, 1])
    expect(s3.closedWith).toBe(4001)
    answering.alive = true // its pong
    hub.heartbeat(now)
    expect(s1.terminated).toBe(false)
    expect(s2.terminated).toBe(true)
    expect(hub.size).toBe(1)
  })

  it('closeToken closes only that token\'s sockets; closeAll closes everyone without presence chatter', () => {
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const [a1, s1] = client(hub, 1, 'tok')
    const [a2, s2] = client(hub, 1, 'tok')
    const [b, s3] = client(hub, 2, 'other')
    for (const c of [a1, a2, b]) hub.join(c, 1)
    hub.closeToken('tok', 4001, 'logged out')
    expect([s1.closedWith, s2.closedWith, s3.closedWith]).toEqual([4001, 4001, null])
    const before = s3.sent.length
    expect(hub.closeAll(1001, 'bye')).toEqual([s3])
    expect(s3.sent.length).toBe(before)
    expect(s3.closedWith).toBe(1001)
    expect(hub.size).toBe(0)
  })
})
