import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, registerUser, uniqueName, type TestApp } from '../helper.js'

let t: TestApp
beforeAll(async () => { t = await buildTestApp() })
afterAll(async () => { await t.close() })

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers })

function hs256 (header: object, payload: object, secret: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const data = `${enc(header)}.${enc(payload)}`
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`
}

describe('POST /api/auth/register', () => {
  it('creates the account and answers with a token', async () => {
    const username = uniqueName('reg')
    const res = await post('/api/auth/register', { username, password: 'a good password' })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ tokenType: 'bearer', user: { username } })
    expect(Object.keys(body.user).sort()).toEqual(['createdAt', 'id', 'isAdmin', 'username'])
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(119 * 60_000)
    expect(res.body).not.toMatch(/\$2[aby]\$/) // no hash
  })

  it('refuses a taken name without regard to case (409)', async () => {
    const { username } = await registerUser(t.app)
    const res = await post('/api/auth/register', { username: username.toUpperCase(), password: 'another password' })
    expect(res.statusCode).toBe(409)
    expect(res.json().error.code).toBe('username_taken')
  })

  it.each([
    ['short name', { username: 'ab', password: 'password1' }, 'username'],
    ['bad characters', { username: 'al ice', password: 'password1' }, 'username'],
    ['zero-width space', { username: 'ali\u200bce', password: 'password1' }, 'username'],
    ['33 characters', { username: 'a'.repeat(33), password: 'password1' }, 'username'],
    ['short password', { username: 'alice_pw', password: 'short' }, 'password'],
    ['129 characters', { username: 'alice_pw', password: 'a'.repeat(129) }, 'password'],
    ['73 bytes (bcrypt would cut it)', { username: 'alice_pw', password: 'a'.repeat(72) + 'X' }, 'password'],
    ['19 emoji = 76 bytes', { username: 'alice_pw', password: '🔑'.repeat(19) }, 'password'],
    ['extra field', { username: 'alice_pw', password: 'password1', isAdmin: true }, ''],
    ['number for name', { username: 12345, password: 'password1' }, 'username']
  ])('400 for %s, naming the field', async (_name, payload, field) => {
    const res = await post('/api/auth/register', payload)
    expect(res.statusCode).toBe(400)
    const { error } = res.json()
    expect(error.code).toBe('validation_failed')
    expect(error.details[0].path).toBe(field)
    expect(error.message.length).toBeGreaterThan(0)
  })

  it('accepts exactly 72 bytes', async () => {
    const res = await post('/api/auth/register', { username: uniqueName('b72'), password: 'é'.repeat(36) })
    expect(res.statusCode).toBe(201)
  })
})

describe('POST /api/auth/login', () => {
  it('logs in with JSON and with the password form', async () => {
    const user = await registerUser(t.app)
    const json = await post('/api/auth/login', { username: user.username, password: user.password })
    expect(json.statusCode).toBe(200)
    expect(json.json()).toMatchObject({ tokenType: 'bearer', user: { id: user.id, username: user.username } })
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `username=${encodeURIComponent(user.username)}&password=${encodeURIComponent(user.password)}`
    })
    expect(form.statusCode).toBe(200)
    expect(form.json().token).not.toBe(json.json().token) // a new token per login
  })

  it('answers an unknown user and a wrong password identically', async () => {
    const user = await registerUser(t.app)
    const wrong = await post('/api/auth/login', { username: user.username, password: 'not the password' })
    const unknown = await post('/api/auth/login', { username: uniqueName('ghost'), password: 'not the password' })
    expect(wrong.statusCode).toBe(401)
    expect(unknown.statusCode).toBe(401)
    expect(wrong.body).toBe(unknown.body)
    expect(wrong.json().error.code).toBe('invalid_credentials')
  })

  it('never lets a password that differs after byte 72 in', async () => {
    const user = await registerUser(t.app, uniqueName('trunc'), 'a'.repeat(72))
    const res = await post('/api/auth/login', { username: user.username, password: 'a'.repeat(72) + 'Y' })
    expect(res.statusCode).toBe(400)
  })

  it('refuses a NUL-cut password', async () => {
    const user = await registerUser(t.app, uniqueName('nul'), 'abc\u0000defgh')
    const res = await post('/api/auth/login', { username: user.username, password: 'abc' })
    expect(res.statusCode).toBe(401)
  })

  it('415 for a body that is neither JSON nor the form', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'hi' })
    expect(res.statusCode).toBe(415)
    expect(res.json().error.code).toBe('unsupported_media_type')
  })
})

describe('tokens', () => {
  it('GET /api/me answers who the token belongs to', async () => {
    const user = await registerUser(t.app)
    const res = await t.app.inject({ url: '/api/me', headers: bearer(user.token) })
    expect(res.statusCode).toBe(200)
    expect(res.json().user).toMatchObject({ id: user.id, username: user.username })
  })

  it('logout revokes that token at once, and only that one', async () => {
    const user = await registerUser(t.app)
    const other = (await post('/api/auth/login', { username: user.username, password: user.password })).json().token as string
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.token) })
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    const after = await t.app.inject({ url: '/api/me', headers: bearer(user.token) })
    expect(after.statusCode).toBe(401)
    expect(after.json().error.code).toBe('unauthorized')
    expect((await t.app.inject({ url: '/api/me', headers: bearer(other) })).statusCode).toBe(200)
  })

  it.each([
    ['no header', {}],
    ['not bearer', { authorization: 'Basic YWxpY2U6cGFzcw==' }],
    ['garbage', { authorization: 'Bearer not.a.jwt' }],
    ['token in the query only', {}]
  ])('401 with %s', async (_name, headers) => {
    const res = await t.app.inject({ url: '/api/me?token=x', headers })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('unauthorized')
  })

  it('refuses alg:none, another secret, HS512, an expired token and a deleted user', async () => {
    const user = await registerUser(t.app)
    const claims = { sub: String(user.id), jti: 'j1', exp: Math.floor(Date.now() / 1000) + 3600 }
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    const forged = hs256({ alg: 'HS256', typ: 'JWT' }, claims, 'secret')
    const hs512 = t.app.jwt.sign(claims, { algorithm: 'HS512' })
    const expired = hs256({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, t.config.secretKey)
    const noUser = hs256({ alg: 'HS256', typ: 'JWT' }, { ...claims, sub: '999999' }, t.config.secretKey)
    const noExp = hs256({ alg: 'HS256', typ: 'JWT' }, { sub: String(user.id), jti: 'j2' }, t.config.secretKey)
    const good = hs256({ alg: 'HS256', typ: 'JWT' }, claims, t.config.secretKey)
    for (const token of [none, forged, hs512, expired, noUser, noExp]) {
      const res = await t.app.inject({ url: '/api/me', headers: bearer(token) })
      expect(res.statusCode, token).toBe(401)
    }
    expect((await t.app.inject({ url: '/api/me', headers: bearer(good) })).statusCode).toBe(200)
  })

  it('the SECURITY.md forged tokens are refused', async () => {
    for (const token of [
      'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.p2YIuOmWEZe6HSvFHRiNAq2mGm7cdD4I3XoHFSplP7U',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.Q7SvFUxoAEgzOjLguo7EETkTJ7tis_MXpIeqTsSQn68'
    ]) {
      expect((await t.app.inject({ url: '/api/rooms', headers: bearer(token) })).statusCode).toBe(401)
    }
  })
})
