// What an open socket keeps: once accepted, nothing of its HTTP upgrade. The request, its headers
// (the token among them) and Fastify's request and reply are collected while the socket stays
// open and working; at info level too, where its "websocket closed" line is still to come.
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { bearer, makeTestConfig, registerUser, uniqueName } from '../helper.js'
import { connect, type TestSocket } from './ws-client.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * Collects garbage until `ref` is gone or a few rounds pass. A WeakRef keeps what deref() returned
 * until the job ends, so every collection starts a job after the last deref().
 */
async function collected (ref: WeakRef<object>): Promise<boolean> {
  const tick = async (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))
  for (let round = 0; round < 10; round++) {
    await tick()
    gc()
    await tick()
    if (ref.deref() === undefined) return true
  }
  return false
}

let cleanup: (() => Promise<void>) | undefined
afterEach(async () => { await cleanup?.(); cleanup = undefined })

describe('an idle socket', () => {
  for (const level of ['info', 'warn']) {
    it(`keeps nothing of its HTTP upgrade (LOG_LEVEL=${level})`, async () => {
      const lines: Array<{ msg: string }> = []
      const app = await buildApp(makeTestConfig({ LOG_LEVEL: level }), { logStream: { write: (line: string) => { lines.push(JSON.parse(line) as { msg: string }) } } })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      const sockets: TestSocket[] = []
      cleanup = async () => {
        await Promise.all(sockets.map(async (s) => s.close()))
        await app.close()
      }
      let upgrade: WeakRef<IncomingMessage> | undefined
      app.server.prependListener('upgrade', (request: IncomingMessage) => { upgrade = new WeakRef(request) })

      const { token } = await registerUser(app)
      const created = await app.inject({ method: 'POST', url: '/api/rooms', headers: bearer(token), payload: { name: uniqueName('room') } })
      const roomId = created.json().room.id as number
      const socket = await connect(base, token)
      sockets.push(socket)
      // Joined: the token's re-check (which holds the request until it answers) is over.
      await socket.request({ type: 'join', roomId }, 'joined')
      expect(upgrade).toBeDefined()
      expect(await collected(upgrade!)).toBe(true)

      // The socket still works, and still logs its close at info.
      const sent = await socket.request({ type: 'message', roomId, body: 'still here', clientId: 'c1' }, 'ack')
      expect(sent.message.body).toBe('still here')
      await socket.close()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(lines.filter((l) => l.msg === 'websocket closed')).toHaveLength(level === 'info' ? 1 : 0)
    })
  }
})
