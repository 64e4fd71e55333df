// SIGTERM on the real process: sockets are closed with 1001, the process exits 0 promptly, and
// every acked message is in the history after a restart on the same directory.
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'
import { connect, type Frame } from './ws-client.js'

const dir = tempDir('secure-chat-ws-shutdown-')
const env = { MESSAGES_PER_SECOND: '0', LOG_LEVEL: 'warn' }
let server: ServerProcess | undefined
afterAll(async () => {
  await server?.stop('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

async function api (base: string, path: string, token?: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  expect(res.ok, `${path}: ${res.status}`).toBe(true)
  return res.json()
}

describe('graceful shutdown', () => {
  it('SIGTERM closes sockets with 1001, exits 0, and loses no acked message', async () => {
    server = await startServer(dir, env)
    const { token } = await api(server.url, '/api/auth/register', undefined, { username: 'shutdown_user', password: 'correct horse battery' })
    const socket = await connect(server.url, token)
    await socket.request({ type: 'join', roomId: 1 }, 'joined')

    // A steady stream with 20 sends in flight at any time; SIGTERM lands in the middle of it.
    let N = 0
    let signalledAt = 0
    const sendNext = (): void => { socket.send({ type: 'message', roomId: 1, body: `m${N}`, clientId: `c${N}` }); N++ }
    // The client goes on sending after the signal: it cannot know.
    socket.ws.on('message', (data) => { if (String(data).startsWith('{"type":"ack"') && N < 90) sendNext() })
    for (let i = 0; i < 20; i++) sendNext()
    await socket.waitFor(() => socket.of('ack').length >= 30, { timeoutMs: 10_000, what: '30 acks' })
    signalledAt = Date.now()
    const exitCode = server.stop('SIGTERM')
    const { code } = await socket.closed
    expect(code).toBe(1001)
    expect(await exitCode).toBe(0)
    expect(Date.now() - signalledAt).toBeLessThan(5000)
    expect(N).toBeLessThanOrEqual(100)
    const acked = socket.of('ack').map((f) => f.message as Frame)
    expect(acked.length).toBeGreaterThanOrEqual(30)

    server = await startServer(dir, env)
    const { messages } = await api(server.url, '/api/rooms/1/messages?limit=100', token)
    const stored = new Map<number, Frame>(messages.map((m: Frame) => [m.id, m]))
    for (const message of acked) expect(stored.get(message.id)).toEqual(message)

    // The client resends what was not acked, with the same clientIds: each ends up stored once.
    const again = await connect(server.url, token)
    await again.request({ type: 'join', roomId: 1 }, 'joined')
    const ackedIds = new Set(acked.map((m) => m.clientId))
    const unacked = Array.from({ length: N }, (_, i) => `c${i}`).filter((id) => !ackedIds.has(id))
    for (const clientId of unacked) again.send({ type: 'message', roomId: 1, body: `m${clientId.slice(1)}`, clientId })
    await again.waitFor(() => again.of('ack').length === unacked.length, { timeoutMs: 10_000, what: 'acks of the resends' })
    const after = await api(server.url, '/api/rooms/1/messages?limit=100', token)
    expect(after.messages.map((m: Frame) => m.clientId).sort()).toEqual(Array.from({ length: N }, (_, i) => `c${i}`).sort())
    await again.close()
  })
})
