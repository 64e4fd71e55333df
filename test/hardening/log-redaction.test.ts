// A token (and a search query) never reaches the log, however the query key is spelled: the
// server's query parser decodes `%74oken` to `token`, so the redaction must look at the decoded
// key too. Checked on the function and on real log lines of real requests.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { redactUrl } from '../../src/logger.js'
import { makeTestConfig, registerUser, tempDir } from '../helper.js'
import { logSink } from './support.js'

const SECRET = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl'

describe('redactUrl', () => {
  it.each([
    ['/ws?token=S', '/ws?token=[redacted]'],
    ['/ws?%74oken=S', '/ws?%74oken=[redacted]'],
    ['/ws?%74%6F%6B%65%6E=S&x=1', '/ws?%74%6F%6B%65%6E=[redacted]&x=1'],
    ['/ws?%2574oken=S', '/ws?%2574oken=[redacted]'], // encoded twice
    ['/ws?TOKEN=S', '/ws?TOKEN=[redacted]'],
    ['/ws?Token=S', '/ws?Token=[redacted]'],
    ['/ws?token[]=S', '/ws?token[]=[redacted]'],
    ['/ws?token%5B%5D=S', '/ws?token%5B%5D=[redacted]'],
    ['/ws?token+=S', '/ws?token+=[redacted]'],
    ['/ws?+token=S', '/ws?+token=[redacted]'],
    ['/ws?x=1;token=S', '/ws?x=[redacted]'], // hidden behind another separator
    ['/ws?x=1?token=S', '/ws?x=[redacted]'],
    ['/ws?x=1%26token%3DS', '/ws?x=[redacted]'],
    ['/ws?a=1&token=S#frag', '/ws?a=1&token=[redacted]'],
    ['/ws?token=S&token=S', '/ws?token=[redacted]&token=[redacted]'],
    ['/ws?access_token=S', '/ws?access_token=[redacted]'],
    ['/api/search?q=S&limit=5', '/api/search?q=[redacted]&limit=5'],
    ['/api/search?Q=S', '/api/search?Q=[redacted]'],
    ['/api/search?%71=S', '/api/search?%71=[redacted]'],
    ['/ws?%ZZtoken=S', '/ws?%ZZtoken=[redacted]'] // a broken escape does not stop the decoding of the rest
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url.replaceAll('S', SECRET))).toBe(expected)
  })

  it('leaves other URLs alone', () => {
    for (const url of ['/', '/api/rooms/1/messages?limit=50&before=7', '/ws', '/api/users?quality=1', '/media/abc?x=%E0']) {
      expect(redactUrl(url)).toBe(url)
    }
  })
})

describe('logged requests', () => {
  let app: FastifyInstance
  let dir: string
  const sink = logSink()
  beforeAll(async () => {
    dir = tempDir()
    app = await buildApp(makeTestConfig({ LOG_LEVEL: 'info' }, dir), { logStream: sink })
    await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a socket opened with a percent-encoded token key is accepted, and its token is not in the log', async () => {
    const { token } = await registerUser(app)
    const { port } = app.server.address() as AddressInfo
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?%74oken=${token}`)
    const ready = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))))
      ws.once('error', reject)
    })
    expect(ready.type).toBe('ready') // the server did take the token from `%74oken`
    ws.close()
    await new Promise((resolve) => ws.once('close', resolve))

    const query = `secret words ${randomBytes(6).toString('hex')}`
    for (const url of [`/ws?TOKEN=${token}`, `/ws?token[]=${token}`, `/api/me?x=1;token=${token}`,
      `/api/rooms?q=${encodeURIComponent(query)}`, `/api/rooms?%71=${encodeURIComponent(query)}`]) {
      await app.inject({ url })
    }
    const text = sink.text()
    expect(text).toContain('%74oken=[redacted]') // the line is there, without the token
    for (const secret of [token, token.split('.')[2]!, encodeURIComponent(query), query]) expect(text).not.toContain(secret)
  })
})
