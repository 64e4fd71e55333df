import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { redactUrl } from '../../src/logger.js'
import { bearer, buildTestApp, makeTestConfig, registerUser, tempDir, type TestApp } from '../helper.js'

let t: TestApp
beforeAll(async () => { t = await buildTestApp() })
afterAll(async () => { await t.close() })

describe('the app', () => {
  it('GET /api/health answers ok', async () => {
    const res = await t.app.inject({ url: '/api/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json().status).toBe('ok')
  })

  it('serves the web client at /', async () => {
    const res = await t.app.inject({ url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
  })

  it('serves the OpenAPI document at /docs', async () => {
    const res = await t.app.inject({ url: '/docs/json' })
    expect(res.statusCode).toBe(200)
    expect(Object.keys(res.json().paths)).toEqual(expect.arrayContaining(['/api/auth/register', '/api/rooms/{roomId}/messages']))
  })

  it.each(['/nope', '/api/nope', '/.env', '/.git/config', '/../package.json'])('404 with the error shape for %s', async (url) => {
    const res = await t.app.inject({ url })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('not_found')
  })

  it.each([
    ['broken JSON', '{"username":', 'application/json'],
    ['prototype poisoning', '{"__proto__":{"isAdmin":true},"username":"abc","password":"password1"}', 'application/json'],
    ['constructor poisoning', '{"constructor":{"prototype":{"x":1}},"username":"abc","password":"password1"}', 'application/json']
  ])('400 for %s, without a stack trace', async (_name, payload, type) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload, headers: { 'content-type': type } })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('validation_failed')
    expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/)
  })

  it('413 for a body over the limit', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'a', password: 'x'.repeat(200_000) } })
    expect(res.statusCode).toBe(413)
    expect(res.json().error.code).toBe('payload_too_large')
  })

  it('answers CORS only for the listed origins, never by reflection', async () => {
    const preflight = (origin: string) => t.app.inject({
      method: 'OPTIONS',
      url: '/api/rooms',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
    })
    const allowed = await preflight('http://localhost:8000')
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:8000')
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization')
    const evil = await preflight('http://evil.example')
    expect(evil.headers['access-control-allow-origin']).toBeUndefined()
    const get = await t.app.inject({ url: '/api/health', headers: { origin: 'http://evil.example' } })
    expect(get.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('redacts tokens from logged URLs', () => {
    expect(redactUrl('/ws?token=abc.def.ghi&x=1')).toBe('/ws?token=[redacted]&x=1')
    expect(redactUrl('/ws?a=1&TOKEN=abc')).toBe('/ws?a=1&TOKEN=[redacted]')
  })

  it('keeps history across a restart on the same files', async () => {
    const dir = tempDir()
    const config = makeTestConfig({}, dir)
    const first = await buildApp(config, { logger: false })
    const { token } = await registerUser(first)
    await first.inject({ method: 'POST', url: '/api/rooms/1/messages', payload: { body: 'survives' }, headers: bearer(token) })
    await first.close()
    const second = await buildApp(config, { logger: false })
    const res = await second.inject({ url: '/api/rooms/1/messages', headers: bearer(token) })
    expect(res.json().messages.map((m: { body: string }) => m.body)).toEqual(['survives'])
    await second.close()
    expect(config.databasePath).toBe(join(dir, 'chat.db'))
  })

  it('refuses to build with a key that cannot read the database', async () => {
    const dir = tempDir()
    await (await buildApp(makeTestConfig({}, dir), { logger: false })).close()
    await expect(buildApp(makeTestConfig({}, dir), { logger: false })).rejects.toThrow(/ENCRYPTION_KEY cannot read this database/)
  })
})
