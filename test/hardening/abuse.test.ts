// Brute force and abuse over HTTP: login throttling (per username and per address, no oracle,
// X-Forwarded-For ignored), the registration limit, and security events in the logs without secrets.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { bearer, buildTestApp, makeTestConfig, registerUser, tempDir, uniqueName, type TestApp } from '../helper.js'
import { logSink } from './support.js'

const randomIp = () => `203.0.113.${1 + Math.floor(Math.random() * 250)}`

describe('login throttling', () => {
  let t: TestApp
  beforeAll(async () => { t = await buildTestApp() })
  afterAll(async () => { await t.close() })

  const login = (username: string, password: string, extra: { remoteAddress?: string, headers?: Record<string, string> } = {}) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, ...extra })

  it('after 5 failures: 429 with Retry-After for wrong and right passwords alike, whatever X-Forwarded-For says', async () => {
    const user = await registerUser(t.app)
    const other = await registerUser(t.app)
    for (let i = 0; i < 5; i++) expect((await login(user.username, 'wrong password')).statusCode).toBe(401)

    const blocked = await login(user.username, 'wrong password')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.headers['retry-after']).toBe('1')
    expect(blocked.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } })
    // No oracle: the right password during the wait gets exactly the same answer.
    const right = await login(user.username, user.password)
    expect(right.statusCode).toBe(429)
    expect(right.body).toBe(blocked.body)
    // Case does not escape it, a faked proxy header does not, another address does not.
    expect((await login(user.username.toUpperCase(), user.password)).statusCode).toBe(429)
    expect((await login(user.username, user.password, { headers: { 'x-forwarded-for': randomIp() } })).statusCode).toBe(429)
    expect((await login(user.username, user.password, { remoteAddress: '198.51.100.7' })).statusCode).toBe(429)
    // Other users are not affected.
    expect((await login(other.username, other.password)).statusCode).toBe(200)

    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await login(user.username, user.password)).statusCode).toBe(200)
    // The success reset the username: a typo afterwards is a plain 401 again.
    expect((await login(user.username, 'typo password')).statusCode).toBe(401)
  })

  it('unknown usernames are throttled exactly like known ones (no enumeration)', async () => {
    const ghost = uniqueName('ghost')
    for (let i = 0; i < 5; i++) expect((await login(ghost, 'wrong password', { remoteAddress: '198.51.100.20' })).statusCode).toBe(401)
    expect((await login(ghost, 'wrong password', { remoteAddress: '198.51.100.20' })).statusCode).toBe(429)
  })

  it('one address guessing across many usernames is slowed after its budget; X-Forwarded-For does not reset it', async () => {
    const ip = '198.51.100.99'
    for (let i = 0; i < 30; i++) {
      const res = await login(uniqueName('spray'), 'Winter2026!', { remoteAddress: ip, headers: { 'x-forwarded-for': randomIp() } })
      expect(res.statusCode).toBe(401)
    }
    const res = await login(uniqueName('spray'), 'Winter2026!', { remoteAddress: ip, headers: { 'x-forwarded-for': randomIp() } })
    expect(res.statusCode).toBe(429)
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // Someone else on another address logs in fine.
    const user = await registerUser(t.app)
    expect((await login(user.username, user.password, { remoteAddress: '198.51.100.100' })).statusCode).toBe(200)
  })

  it('a parallel burst of guesses gets at most 5 password checks', async () => {
    const user = await registerUser(t.app)
    const results = await Promise.all(Array.from({ length: 20 }, () => login(user.username, 'wrong password', { remoteAddress: '198.51.100.30' })))
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(5)
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(15)
  })
})

describe('registration limit per address', () => {
  let t: TestApp
  beforeAll(async () => { t = await buildTestApp({ REGISTRATIONS_PER_HOUR: '2' }) })
  afterAll(async () => { await t.close() })

  const register = (extra: { remoteAddress?: string, headers?: Record<string, string> } = {}) =>
    t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: uniqueName('reg'), password: 'password123' }, ...extra })

  it('429 with Retry-After after REGISTRATIONS_PER_HOUR; X-Forwarded-For ignored; other addresses unaffected', async () => {
    expect((await register()).statusCode).toBe(201)
    expect((await register({ headers: { 'x-forwarded-for': randomIp() } })).statusCode).toBe(201)
    const res = await register({ headers: { 'x-forwarded-for': randomIp() } })
    expect(res.statusCode).toBe(429)
    expect(res.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } })
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(3000) // about an hour
    expect((await register({ remoteAddress: '198.51.100.1' })).statusCode).toBe(201)
  })
})

describe('security logs', () => {
  it('record failed logins, throttling and rate limits with an `event`, and never a password or token', async () => {
    const sink = logSink()
    const dir = tempDir()
    const app = await buildApp(makeTestConfig({ LOG_LEVEL: 'info', MESSAGES_PER_SECOND: '1' }, dir), { logStream: sink })
    await app.ready()
    try {
      const password = `pw-${randomBytes(8).toString('hex')}`
      const wrong = `wrong-${randomBytes(8).toString('hex')}`
      const user = await registerUser(app, uniqueName('logged'), password)
      const { token } = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password } })).json()
      await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=${user.username}&password=${wrong}` })
      for (let i = 0; i < 6; i++) await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: wrong } })
      // A password typed into the username field is not written down either.
      const typedInName = `pw-in-name-${randomBytes(8).toString('hex')}`
      await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: typedInName, password: wrong } })
      for (let i = 0; i < 5; i++) await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body: 'hi' } })
      await app.inject({ url: `/ws?token=${token}` }) // a token in the URL (not an upgrade: 4xx)
      await app.inject({ url: '/api/me', headers: bearer(token) })
      await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}x` } })

      const text = sink.text()
      const events = sink.lines.map((line) => JSON.parse(line) as { event?: string }).map((l) => l.event).filter(Boolean)
      expect(events).toEqual(expect.arrayContaining(['user_registered', 'login_succeeded', 'login_failed', 'login_throttled', 'rate_limited']))
      for (const secret of [password, wrong, typedInName, token, token.split('.')[2]!]) expect(text).not.toContain(secret)
    } finally {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
