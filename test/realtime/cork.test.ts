// The one place that reaches into ws's private TCP socket: pinned to the ws we ship (a real server
// socket is found and corked for the turn), and harmless without it (frames still go out).
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { corkOf, NO_CORK } from '../../src/realtime/cork.js'
import { Client, Hub, OPEN, type HubSocket } from '../../src/realtime/hub.js'

const FAR = Math.floor(Date.now() / 1000) + 3600
const nextTick = async () => new Promise((resolve) => process.nextTick(resolve))
const cleanup: Array<() => void> = []
afterEach(() => { for (const done of cleanup.splice(0)) done() })

/** A real ws server socket, its TCP socket (from the public request object) and the client's frames. */
async function realPair (): Promise<{ server: WebSocket, tcp: Socket, received: string[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  const accepted = once(wss, 'connection') as Promise<[WebSocket, IncomingMessage]>
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
  const received: string[] = []
  client.on('message', (data) => received.push(String(data)))
  cleanup.push(() => { client.terminate(); wss.close() })
  const [server, request] = await accepted
  await once(client, 'open')
  return { server, tcp: request.socket as Socket, received }
}

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(check()).toBe(true)
}

class FakeSocket implements HubSocket {
  readyState = OPEN
  bufferedAmount = 0
  sent: string[] = []
  send (data: string): void { this.sent.push(data) }
  close (): void { this.readyState = 3 }
  terminate (): void { this.readyState = 3 }
  ping (): void {}
}

describe('corkOf', () => {
  it('finds the TCP socket under a real ws server socket', async () => {
    const { server, tcp } = await realPair()
    expect(corkOf(server)).toBe(tcp)
  })

  it('lets the hub cork a real socket for the turn: frames are held, then leave together', async () => {
    const { server, tcp, received } = await realPair()
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const client = new Client(server, { id: 1, username: 'u1' }, 'jti', FAR)
    hub.add(client)
    hub.send(client, { type: 'pong' })
    hub.send(client, { type: 'pong' })
    expect(tcp.writableCorked).toBe(1)
    expect(tcp.writableLength).toBeGreaterThan(0) // both frames wait in the corked stream
    await nextTick()
    expect(tcp.writableCorked).toBe(0)
    await until(() => received.length === 2)
    expect(received.map((f) => JSON.parse(f))).toEqual([{ type: 'pong' }, { type: 'pong' }])
  })

  it.each([
    ['no _socket at all (a fake, or a ws that hides it)', undefined],
    ['_socket is null (not attached yet)', null],
    ['_socket without stream methods (a ws that changed it)', { write () {} }]
  ])('%s → the no-op stand-in, and the hub still delivers', async (_name, raw) => {
    const socket = new FakeSocket()
    if (raw !== undefined) Object.assign(socket, { _socket: raw })
    expect(corkOf(socket)).toBe(NO_CORK)
    const hub = new Hub({ maxBufferBytes: 1e6 })
    const client = new Client(socket, { id: 1, username: 'u1' }, 'jti', FAR)
    hub.add(client)
    hub.join(client, 1)
    // Past the 64 KiB flush mark too: the stand-in is never flushed or queued.
    for (let i = 0; i < 40; i++) hub.message({ type: 'message', message: { id: i + 1, roomId: 1, author: { id: 2, username: 'u2' }, body: 'x'.repeat(4000), attachment: null, clientId: null, createdAt: '', seq: i + 1, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null } })
    await nextTick()
    expect(socket.sent).toHaveLength(40)
    expect(JSON.parse(socket.sent[39]!).message.id).toBe(40)
    expect(NO_CORK.writableCorked).toBe(1)
  })
})
