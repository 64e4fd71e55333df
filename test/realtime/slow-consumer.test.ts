// A slow consumer learns why it was dropped: a client that stops reading until the server gives
// up on it, and reads again only after the WebSocket close timeout (5 s) has passed, still gets
// close code 1013, not 1006. The frames are real message frames through the hub's fan-out.
import { setTimeout as delay } from 'node:timers/promises'
import type { Socket } from 'node:net'
import type WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, registerUser, uniqueName } from '../helper.js'
import { connect, listeningApp, type ListeningApp } from './ws-client.js'

let t: ListeningApp
beforeAll(async () => { t = await listeningApp({ MAX_SOCKET_BUFFER_BYTES: String(256 * 1024) }) })
afterAll(async () => t.close())

describe('a slow consumer', () => {
  it('that reads again after the close timeout receives 1013, and its backlog is discarded at once', { timeout: 60_000 }, async () => {
    const alice = await registerUser(t.app)
    const slowUser = await registerUser(t.app)
    const room = await t.app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(alice.token), payload: { name: uniqueName('slow') } })
    const roomId = room.json().room.id as number
    let server: WebSocket | undefined // the server's end of the slow socket
    t.app.websocketServer.once('connection', (ws: WebSocket) => { server = ws })
    const slow = await connect(t.base, slowUser.token)
    await slow.request({ type: 'join', roomId }, 'joined')
    const raw = (slow.ws as unknown as { _socket: Socket })._socket
    raw.pause() // stops reading: the kernel buffers fill, then the server's

    const sent = await t.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: bearer(alice.token), payload: { body: 'x'.repeat(4000) } })
    const frame = { type: 'message' as const, message: sent.json().message }
    // The real fan-out, a batch per turn, until the hub gives up on the socket.
    for (let batch = 0; t.app.hub.socketsOf(slowUser.id) > 0; batch++) {
      expect(batch, 'the server never found the socket slow').toBeLessThan(2000)
      for (let i = 0; i < 50; i++) t.app.hub.message(frame)
      await delay(1)
    }

    // The backlog (over MAX_SOCKET_BUFFER_BYTES when it was dropped) is gone: what is left is the
    // one write the kernel has started to take (about 64 KiB, the hub's flush size) and the close frame.
    expect(server!.bufferedAmount).toBeLessThan(128 * 1024)

    await delay(6500) // past the 5 s in which a closing socket must answer
    raw.resume()
    const closed = await slow.closed
    expect(closed.code).toBe(1013)
    // Whole frames only, up to the close: the discarding split none.
    expect(slow.frames.length).toBeGreaterThan(0)
    expect(slow.frames.filter((f) => !['ready', 'joined', 'message'].includes(f.type))).toEqual([])
  })
})
