// The hostile-input suite, HTTP half: one table of bad requests across every route. For each: the
// expected status, the contract's error shape with a catalogue code that goes with that status,
// never a 5xx or a stack trace, the server still healthy and still serving the sender, and not one
// byte of stored data changed (every table, through a separate read-only connection).
import { createHmac } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { catalogue, type ErrorCode } from '../../src/errors.js'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'
import { multipart, snapshot, TINY_PDF, type Part } from './support.js'

let t: TestApp
let token: string
let userId: number
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const far = 4102444800
/** A JWT signed (HS256 unless told) with the given secret. */
function jwt (payload: Record<string, unknown>, secret: string, alg = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256'
  return `${head}.${createHmac(hash, secret).update(head).digest('base64url')}`
}

interface Case {
  name: string
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS'
  url: string
  /** A JSON value, a raw string or Buffer (sent as is), or a multipart body. */
  body?: unknown
  raw?: string | Buffer
  parts?: Part[]
  headers?: Record<string, string>
  /** 'user' (default) sends a valid bearer token; 'none' sends none; a function builds the headers. */
  auth?: 'user' | 'none' | (() => Record<string, string>)
  status: number | number[]
  code?: string
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`
const realSecret = () => t.config.secretKey

const cases: Case[] = [
  // --- register: types, missing and extra fields, sizes, look-alikes, pollution ---
  { name: 'register: username is a number', method: 'POST', url: '/api/auth/register', body: { username: 12345, password: 'password123' }, auth: 'none', status: 400, code: 'validation_failed' },
  { name: 'register: password missing', method: 'POST', url: '/api/auth/register', body: { username: 'newbie' }, auth: 'none', status: 400, code: 'validation_failed' },
  { name: 'register: extra isAdmin and id (mass assignment)', method: 'POST', url: '/api/auth/register', body: { username: 'newbie', password: 'password123', isAdmin: true, id: 1 }, auth: 'none', status: 400, code: 'validation_failed' },
  { name: 'register: 10 000-character username', method: 'POST', url: '/api/auth/register', body: { username: 'a'.repeat(10_000), password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: NUL in username', method: 'POST', url: '/api/auth/register', body: { username: 'ab\u0000cd', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: zero-width space in username', method: 'POST', url: '/api/auth/register', body: { username: 'ali\u200bce', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: zero-width-only username', method: 'POST', url: '/api/auth/register', body: { username: '\u200b\u200c\u200d', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: right-to-left override in username', method: 'POST', url: '/api/auth/register', body: { username: '\u202eecila', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: Cyrillic look-alike of an existing name', method: 'POST', url: '/api/auth/register', body: { username: 'аlice', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: fullwidth letters', method: 'POST', url: '/api/auth/register', body: { username: 'ａｌｉｃｅ', password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: SQL in username', method: 'POST', url: '/api/auth/register', body: { username: "' OR '1'='1", password: 'password123' }, auth: 'none', status: 400 },
  { name: 'register: password of 73 bytes', method: 'POST', url: '/api/auth/register', body: { username: 'newbie', password: 'a'.repeat(72) + 'X' }, auth: 'none', status: 400 },
  { name: 'register: 19 emoji (76 bytes)', method: 'POST', url: '/api/auth/register', body: { username: 'newbie', password: '🔑'.repeat(19) }, auth: 'none', status: 400 },
  { name: 'register: __proto__ key', method: 'POST', url: '/api/auth/register', raw: '{"username":"newbie","password":"password123","__proto__":{"isAdmin":true}}', auth: 'none', status: 400 },
  { name: 'register: constructor.prototype key', method: 'POST', url: '/api/auth/register', raw: '{"username":"newbie","password":"password123","constructor":{"prototype":{"isAdmin":true}}}', auth: 'none', status: 400 },
  { name: 'register: body is an array', method: 'POST', url: '/api/auth/register', body: [{ username: 'newbie', password: 'password123' }], auth: 'none', status: 400 },
  { name: 'register: body is a JSON string', method: 'POST', url: '/api/auth/register', raw: '"newbie"', auth: 'none', status: 400 },
  { name: 'register: body is null', method: 'POST', url: '/api/auth/register', raw: 'null', auth: 'none', status: 400 },
  { name: 'register: 20 000-deep nested arrays', method: 'POST', url: '/api/auth/register', raw: deep(20_000), auth: 'none', status: 400 },
  { name: 'register: JSON bomb of 5 000 keys', method: 'POST', url: '/api/auth/register', raw: manyKeys(5000), auth: 'none', status: 400 },
  { name: 'register: number beyond double (1e400)', method: 'POST', url: '/api/auth/register', raw: '{"username":1e400,"password":"password123"}', auth: 'none', status: 400 },
  { name: 'register: invalid UTF-8 bytes', method: 'POST', url: '/api/auth/register', raw: Buffer.concat([Buffer.from('{"username":"ab'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('cd","password":"password123"}')]), auth: 'none', status: 400 },
  { name: 'register: lone surrogate escape', method: 'POST', url: '/api/auth/register', raw: '{"username":"ab\\ud800cd","password":"password123"}', auth: 'none', status: 400 },
  { name: 'register: truncated JSON', method: 'POST', url: '/api/auth/register', raw: '{"username":"newbie","pass', auth: 'none', status: 400 },
  { name: 'register: empty JSON body', method: 'POST', url: '/api/auth/register', raw: '', auth: 'none', status: 400 },
  { name: 'register: text/plain', method: 'POST', url: '/api/auth/register', raw: 'username=newbie', headers: { 'content-type': 'text/plain' }, auth: 'none', status: 415, code: 'unsupported_media_type' },
  { name: 'register: application/xml', method: 'POST', url: '/api/auth/register', raw: '<user><name>newbie</name></user>', headers: { 'content-type': 'application/xml' }, auth: 'none', status: 415 },
  { name: 'register: multipart', method: 'POST', url: '/api/auth/register', parts: [{ name: 'username', value: 'newbie' }, { name: 'password', value: 'password123' }], auth: 'none', status: [400, 415] },
  { name: 'register: a password form posted from a foreign page', method: 'POST', url: '/api/auth/register', raw: 'username=formuser&password=password123', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, auth: 'none', status: 415, code: 'unsupported_media_type' },
  { name: 'register: existing name in another case', method: 'POST', url: '/api/auth/register', body: { username: 'ALICE', password: 'password123' }, auth: 'none', status: 409, code: 'username_taken' },

  // --- login ---
  { name: 'login: username is an array', method: 'POST', url: '/api/auth/login', body: { username: ['alice'], password: 'password123' }, auth: 'none', status: 400 },
  { name: 'login: password is an object', method: 'POST', url: '/api/auth/login', body: { username: 'alice', password: { $ne: null } }, auth: 'none', status: 400 },
  { name: 'login: SQL in username', method: 'POST', url: '/api/auth/login', body: { username: "alice'--", password: 'password123' }, auth: 'none', status: [401, 429], code: undefined },
  { name: 'login: 129-character password', method: 'POST', url: '/api/auth/login', body: { username: 'alice', password: 'p'.repeat(129) }, auth: 'none', status: 400 },
  { name: 'login: form with an extra field', method: 'POST', url: '/api/auth/login', raw: 'username=alice&password=password123&admin=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, auth: 'none', status: 400 },
  { name: 'login: form with __proto__', method: 'POST', url: '/api/auth/login', raw: '__proto__=x&username=alice&password=password123', headers: { 'content-type': 'application/x-www-form-urlencoded' }, auth: 'none', status: 400 },
  { name: 'login: form missing the password', method: 'POST', url: '/api/auth/login', raw: 'username=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' }, auth: 'none', status: 400 },

  // --- tokens: forged, wrong algorithm, wrong place ---
  { name: 'token: alg none', url: '/api/me', auth: () => ({ authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', jti: 'x', exp: far })}.` }), status: 401, code: 'unauthorized' },
  { name: "token: HS256 signed with 'secret'", url: '/api/me', auth: () => ({ authorization: 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.p2YIuOmWEZe6HSvFHRiNAq2mGm7cdD4I3XoHFSplP7U' }), status: 401 },
  { name: 'token: HS256 signed with an empty secret', url: '/api/me', auth: () => ({ authorization: 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.Q7SvFUxoAEgzOjLguo7EETkTJ7tis_MXpIeqTsSQn68' }), status: 401 },
  { name: 'token: HS512 with the real secret', url: '/api/me', auth: () => ({ authorization: `Bearer ${jwt({ sub: String(userId), jti: 'j1', exp: far }, realSecret(), 'HS512')}` }), status: 401 },
  { name: 'token: real secret, expired', url: '/api/me', auth: () => ({ authorization: `Bearer ${jwt({ sub: String(userId), jti: 'j2', exp: 1000 }, realSecret())}` }), status: 401 },
  { name: 'token: real secret, no jti', url: '/api/me', auth: () => ({ authorization: `Bearer ${jwt({ sub: String(userId), exp: far }, realSecret())}` }), status: 401 },
  { name: 'token: real secret, user that does not exist', url: '/api/me', auth: () => ({ authorization: `Bearer ${jwt({ sub: '999999', jti: 'j3', exp: far }, realSecret())}` }), status: 401 },
  { name: 'token: real secret, sub not a number', url: '/api/me', auth: () => ({ authorization: `Bearer ${jwt({ sub: '1 OR 1=1', jti: 'j4', exp: far }, realSecret())}` }), status: 401 },
  { name: 'token: valid token with the payload swapped', url: '/api/me', auth: () => { const [h, , s] = token.split('.'); return { authorization: `Bearer ${h}.${b64({ sub: '2', jti: 'x', exp: far })}.${s}` } }, status: 401 },
  { name: 'token: in the query string', url: '/api/me?token=TOKEN', auth: 'none', status: 401 },
  { name: 'token: in a cookie', url: '/api/me', auth: () => ({ cookie: `token=${token}` }), status: 401 },
  { name: 'token: Basic auth', url: '/api/me', auth: () => ({ authorization: 'Basic YWxpY2U6cGFzc3dvcmQxMjM=' }), status: 401 },
  { name: 'token: Bearer with nothing', url: '/api/me', auth: () => ({ authorization: 'Bearer ' }), status: 401 },
  { name: 'token: trailing junk', url: '/api/me', auth: () => ({ authorization: `Bearer ${token} extra` }), status: 401 },

  // --- rooms ---
  { name: 'rooms: name is a number', method: 'POST', url: '/api/rooms', body: { name: 42 }, status: 400 },
  { name: 'rooms: name empty', method: 'POST', url: '/api/rooms', body: { name: '' }, status: 400 },
  { name: 'rooms: name only spaces', method: 'POST', url: '/api/rooms', body: { name: '     ' }, status: 400 },
  { name: 'rooms: name of 65 characters', method: 'POST', url: '/api/rooms', body: { name: 'r'.repeat(65) }, status: 400 },
  { name: 'rooms: topic of 513 characters', method: 'POST', url: '/api/rooms', body: { name: 'Fine', topic: 't'.repeat(513) }, status: 400 },
  { name: 'rooms: extra createdBy', method: 'POST', url: '/api/rooms', body: { name: 'Fine', createdBy: 1 }, status: 400 },
  { name: 'rooms: existing name, other case', method: 'POST', url: '/api/rooms', body: { name: 'general' }, status: 409, code: 'room_exists' },
  { name: 'rooms: no token', method: 'POST', url: '/api/rooms', body: { name: 'Fine' }, auth: 'none', status: 401 },
  ...['-1', '0', '1.5', '1e3', 'abc', '%00', '01', "1'%20OR%20'1'='1", '99999999999999999999', '0x10', '+1'].map((id): Case =>
    ({ name: `rooms: id ${decodeURIComponent(id)}`, url: `/api/rooms/${id}`, status: 400, code: 'validation_failed' })),
  { name: 'rooms: id of 300 digits', url: `/api/rooms/${'9'.repeat(300)}`, status: [400, 404] },
  { name: 'rooms: unknown id', url: '/api/rooms/999999', status: 404, code: 'room_not_found' },

  // --- history ---
  ...['limit=0', 'limit=101', 'limit=-5', 'limit=abc', 'limit=1.5', 'limit=1&limit=2', 'before=1&after=1', 'before=-1', 'after=1.5', 'before=0', 'after=%00'].map((q): Case =>
    ({ name: `history: ?${q}`, url: `/api/rooms/1/messages?${q}`, status: 400, code: 'validation_failed' })),
  { name: 'history: unknown room', url: '/api/rooms/999999/messages', status: 404, code: 'room_not_found' },

  // --- send ---
  { name: 'send: body missing', method: 'POST', url: '/api/rooms/1/messages', body: { clientId: 'c1' }, status: 400 },
  { name: 'send: body is a number', method: 'POST', url: '/api/rooms/1/messages', body: { body: 1 }, status: 400 },
  { name: 'send: body only white space', method: 'POST', url: '/api/rooms/1/messages', body: { body: ' \n\t ' }, status: 400 },
  { name: 'send: body of 4001 characters', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'x'.repeat(4001) }, status: 400 },
  { name: 'send: NUL in body', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'a\u0000b' }, status: 400 },
  { name: 'send: clientId of 65 characters', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'hi', clientId: 'c'.repeat(65) }, status: 400 },
  { name: 'send: clientId is a number', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'hi', clientId: 7 }, status: 400 },
  { name: 'send: spoofed author', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'hi', author: { id: 1, username: 'alice' } }, status: 400 },
  { name: 'send: roomId in the body', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'hi', roomId: 2 }, status: 400 },
  { name: 'send: 1 MB body', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'x'.repeat(1_000_000) }, status: 413, code: 'payload_too_large' },
  { name: 'send: unknown room', method: 'POST', url: '/api/rooms/999999/messages', body: { body: 'hi' }, status: 404, code: 'room_not_found' },
  { name: 'send: negative room', method: 'POST', url: '/api/rooms/-3/messages', body: { body: 'hi' }, status: 400 },
  { name: 'send: no token', method: 'POST', url: '/api/rooms/1/messages', body: { body: 'hi' }, auth: 'none', status: 401 },

  // --- uploads ---
  { name: 'upload: no file part', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'body', value: 'caption only' }], status: 400 },
  { name: 'upload: two files', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'file', value: TINY_PDF, filename: 'a.pdf' }, { name: 'file', value: TINY_PDF, filename: 'b.pdf' }], status: 413 },
  { name: 'upload: 50 fields', method: 'POST', url: '/api/rooms/1/uploads', parts: Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, value: 'x' })), status: [400, 413] },
  { name: 'upload: JSON instead of multipart', method: 'POST', url: '/api/rooms/1/uploads', body: { file: 'x' }, status: 415 },
  { name: 'upload: HTML named .png', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'file', value: '<html><script>alert(1)</script></html>', filename: 'x.png', type: 'image/png' }], status: 415 },
  { name: 'upload: SVG with script', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'file', value: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', filename: 'x.svg', type: 'image/svg+xml' }], status: 415 },
  { name: 'upload: empty file', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'file', value: '', filename: 'a.pdf' }], status: 400 },
  { name: 'upload: caption with NUL', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'body', value: 'a\u0000b' }, { name: 'file', value: TINY_PDF, filename: 'a.pdf' }], status: 400 },
  { name: 'upload: unknown room', method: 'POST', url: '/api/rooms/999999/uploads', parts: [{ name: 'file', value: TINY_PDF, filename: 'a.pdf' }], status: 404, code: 'room_not_found' },
  { name: 'upload: no token', method: 'POST', url: '/api/rooms/1/uploads', parts: [{ name: 'file', value: TINY_PDF, filename: 'a.pdf' }], auth: 'none', status: 401 },
  { name: 'upload: boundary never closed', method: 'POST', url: '/api/rooms/1/uploads', raw: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, status: [400, 413] },

  // --- paths: traversal, dotfiles, encodings ---
  ...['/media/../chat.db', '/media/..%2fchat.db', '/media/%2e%2e/%2e%2e/package.json', '/media/%252e%252e/x', '/media/..%5c..%5cpackage.json',
    '/media/x%00.png', '/media//etc/passwd', '/media/.gitkeep', '/media/', '/media/chat.db', '/../package.json', '/%2e%2e/package.json',
    '/.env', '/.git/config', '/.secret_key', '/.fernet_key', '/..%2f..%2fetc/passwd', '/src/server.ts', '/node_modules/fastify/package.json', '/chat.db']
    .map((url): Case => ({ name: `path: ${url}`, url, auth: 'none', status: [400, 403, 404] })),

  // --- methods and CORS ---
  { name: 'method: DELETE a room', method: 'DELETE', url: '/api/rooms/1', status: [404, 405] },
  { name: 'method: PUT login', method: 'PUT', url: '/api/auth/login', body: { username: 'alice', password: 'password123' }, auth: 'none', status: [404, 405] },
  { name: 'method: PATCH a message', method: 'PATCH', url: '/api/rooms/1/messages', body: { body: 'edited' }, status: [404, 405] },
  { name: 'CORS: preflight from an evil origin', method: 'OPTIONS', url: '/api/rooms', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' }, auth: 'none', status: [204, 400, 403, 404] }
]

beforeAll(async () => {
  t = await buildTestApp()
  const alice = await registerUser(t.app, 'alice', 'password123')
  token = alice.token
  userId = alice.id
  await registerUser(t.app, 'bob_b', 'password123')
  for (const body of ['first', 'second', "'); DROP TABLE messages;--"]) {
    await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body } })
  }
  const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'a.pdf' }])
  await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', headers: { ...bearer(token), ...form.headers }, payload: form.payload })
})
afterAll(async () => { await t.close() })

describe('hostile HTTP input', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    const mediaBefore = readdirSync(t.config.mediaDir).sort()
    const headers: Record<string, string> = { ...(c.headers ?? {}) }
    if (c.auth === undefined || c.auth === 'user') Object.assign(headers, bearer(token))
    else if (typeof c.auth === 'function') Object.assign(headers, c.auth())
    let payload: string | Buffer | undefined
    if (c.parts !== undefined) {
      const form = multipart(c.parts)
      Object.assign(headers, form.headers)
      payload = form.payload
    } else if (c.raw !== undefined) {
      headers['content-type'] ??= 'application/json'
      payload = c.raw
    } else if (c.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      payload = JSON.stringify(c.body)
    }
    const url = c.url.replace('TOKEN', token)
    const res = await t.app.inject({ method: c.method ?? 'GET', url, headers, payload })

    const allowed = Array.isArray(c.status) ? c.status : [c.status]
    expect(allowed, `${res.statusCode} ${res.body.slice(0, 300)}`).toContain(res.statusCode)
    expect(res.statusCode).toBeLessThan(500)
    if (res.statusCode >= 400) {
      const body = res.json()
      expect(body).toEqual({ error: expect.objectContaining({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) }) })
      expect(Object.keys(body.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true)
      if (c.code !== undefined) expect(body.error.code).toBe(c.code)
      // A code from the catalogue, and the status that goes with it.
      expect(catalogue[body.error.code as ErrorCode]?.status, body.error.code).toBe(res.statusCode)
      if (res.statusCode === 429) expect(res.headers['retry-after']).toBeDefined()
    }
    expect(res.body).not.toMatch(/\bat .+\.(js|ts):\d+|SQLITE_|SqliteError|"secure-chat"|SQLite format/)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    // Still healthy, still serving the user who sent it, and nothing stored changed.
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/api/me', headers: bearer(token) })).json()).toEqual({ user: expect.objectContaining({ id: userId, username: 'alice' }) })
    expect(snapshot(t.config.databasePath)).toEqual(before)
    expect(readdirSync(t.config.mediaDir).sort()).toEqual(mediaBefore)
  })

  it('no prototype was polluted by any of it', () => {
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('a traversal filename is stored under a server-made name inside MEDIA_DIR', async () => {
    const form = multipart([{ name: 'file', value: TINY_PDF, filename: '../../../../tmp/evil.pdf' }])
    const res = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', headers: { ...bearer(token), ...form.headers }, payload: form.payload })
    expect(res.statusCode).toBe(201)
    const attachment = res.json().message.attachment
    expect(attachment.url).toMatch(/^\/media\/[0-9a-f]{32}\.pdf$/)
    expect(attachment.name).not.toMatch(/[/\\]/)
    expect(readdirSync(t.config.mediaDir)).toContain(attachment.url.slice('/media/'.length))
  })
})

describe('the checks above can fail', () => {
  it('a real send does change the snapshot (so "unchanged" means something)', async () => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    const res = await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body: 'legit' } })
    expect(res.statusCode).toBe(201)
    expect(snapshot(t.config.databasePath)).not.toEqual(before)
  })
})
