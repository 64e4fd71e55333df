// A burst that a reading client can take must not look like a slow consumer: the hub corks each
// socket for a turn, and the bytes it holds back itself must not count against the reader.
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helper.js'
import { startServer } from '../process-helper.js'

describe('bursts', () => {
  it('three clients each sending 3000 messages at once all get every ack, and no 1013', async () => {
    const server = await startServer(tempDir(), { MESSAGES_PER_SECOND: '0' })
    try {
      const tokens = await Promise.all(['a', 'b', 'c'].map(async (name) => {
        const res = await fetch(`${server.url}/api/auth/register`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `burst_${name}`, password: 'password123' })
        })
        return ((await res.json()) as { token: string }).token
      }))
      const N = 3000
      const outcomes = await Promise.all(tokens.map(async (token, user) => new Promise<string>((resolve) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?token=${token}`)
        let acks = 0
        const timer = setTimeout(() => { resolve(`timed out with ${acks} acks`); ws.terminate() }, 25_000)
        ws.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string }
          if (frame.type === 'ready') ws.send(JSON.stringify({ type: 'join', roomId: 1 }))
          if (frame.type === 'joined') {
            for (let i = 0; i < N; i++) ws.send(JSON.stringify({ type: 'message', roomId: 1, body: `burst ${i}`, clientId: `u${user}-${i}` }))
          }
          if (frame.type === 'ack' && ++acks === N) {
            clearTimeout(timer)
            resolve('ok')
            ws.close()
          }
        })
        ws.on('close', (code) => { clearTimeout(timer); resolve(acks === N ? 'ok' : `closed ${code} with ${acks} acks`) })
      })))
      expect(outcomes).toEqual(['ok', 'ok', 'ok'])
    } finally {
      await server.stop('SIGKILL')
    }
  })
})
