// Every error Fastify or a plugin raises that a client can trigger answers in the contract's shape
// with a 4xx, never a 500 with a stack trace in the log. The table below is the sweep of
// node_modules/fastify/lib/errors.js: each code a request can cause, and how to cause it.
// Not reachable from a request here, so not in the table: FST_ERR_MAX_PARAM_LENGTH (only for
// regex params, which no route has), FST_ERR_ASYNC_CONSTRAINT (no async constraints),
// FST_ERR_HANDLER_TIMEOUT (no handlerTimeout), FST_ERR_INVALID_URL (inject with a non-string URL),
// FST_ERR_CTP_INSTANCE_ALREADY_STARTED and the rest (mistakes in our code at start-up).
import { rmSync } from 'node:fs'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { makeTestConfig, registerUser, tempDir } from '../helper.js'
import { upload } from '../uploads/helpers.js'
import { logSink, TINY_PDF } from './support.js'

let app: FastifyInstance
let dir: string
let mediaUrl: string
const sink = logSink()

beforeAll(async () => {
  dir = tempDir()
  app = await buildApp(makeTestConfig({ LOG_LEVEL: 'info' }, dir), { logStream: sink })
  await app.ready()
  const { token } = await registerUser(app)
  const res = await upload(app, token, { bytes: TINY_PDF, filename: 'a.pdf' })
  expect(res.statusCode).toBe(201)
  mediaUrl = res.json().message.attachment.url
})

afterAll(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

/** `{"error": {"code", "message", "details"?}}` and nothing else. */
function expectShape (body: { error?: Record<string, unknown> }, code: string): void {
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error).toMatchObject({ code, message: expect.any(String) })
  expect(Object.keys(body.error!).filter((key) => !['code', 'message', 'details'].includes(key))).toEqual([])
}

interface Case { name: string, request: () => InjectOptions, status: number, code: string }
const long = 'Mon, 01 Jan 2001 00:00:00 GMT'

const cases: Case[] = [
  // @fastify/static (through @fastify/send) on the web client's files and Swagger UI's.
  ...['/', '/index.html', '/docs/static/index.css'].flatMap((url): Case[] => [
    { name: `${url}: Range past the end`, request: () => ({ url, headers: { range: 'bytes=99999999-' } }), status: 416, code: 'range_not_satisfiable' },
    { name: `${url}: Range of the last 0 bytes`, request: () => ({ url, headers: { range: 'bytes=-0' } }), status: 416, code: 'range_not_satisfiable' },
    { name: `${url}: If-Match that does not match`, request: () => ({ url, headers: { 'if-match': '"not-the-etag"' } }), status: 412, code: 'precondition_failed' },
    { name: `${url}: If-Unmodified-Since long ago`, request: () => ({ url, headers: { 'if-unmodified-since': long } }), status: 412, code: 'precondition_failed' }
  ]),
  // /media has its own range code: it must agree.
  { name: '/media: Range past the end', request: () => ({ url: mediaUrl, headers: { range: 'bytes=99999999-' } }), status: 416, code: 'range_not_satisfiable' },
  { name: '/media: Range of the last 0 bytes', request: () => ({ url: mediaUrl, headers: { range: 'bytes=-0' } }), status: 416, code: 'range_not_satisfiable' },
  // FST_ERR_BAD_URL: a broken percent-encoding in a route parameter, on every kind of route.
  ...['/api/rooms/%E0%A4%A', '/api/rooms/%E0%A4%A/messages', '/media/%E0%A4%A', '/docs/static/%E0%A4%A', '/%E0%A4%A', '/nothing/%E0%A4%A'].map((url): Case => (
    { name: `FST_ERR_BAD_URL ${url}`, request: () => ({ url }), status: 400, code: 'validation_failed' })),
  // FST_ERR_CTP_*: bodies.
  { name: 'FST_ERR_CTP_INVALID_JSON_BODY', request: () => ({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"a":' }), status: 400, code: 'validation_failed' },
  { name: 'FST_ERR_CTP_EMPTY_JSON_BODY', request: () => ({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '' }), status: 400, code: 'validation_failed' },
  { name: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', request: () => ({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json', 'content-length': '50' }, payload: '{"a":1}' }), status: 400, code: 'validation_failed' },
  { name: 'FST_ERR_CTP_BODY_TOO_LARGE', request: () => ({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: `{"a":"${'x'.repeat(70_000)}"}` }), status: 413, code: 'payload_too_large' },
  { name: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', request: () => ({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': 'text/xml' }, payload: '<a/>' }), status: 415, code: 'unsupported_media_type' },
  // FST_ERR_VALIDATION (through zod) and FST_ERR_NOT_FOUND (an unknown route or method).
  { name: 'FST_ERR_VALIDATION', request: () => ({ method: 'POST', url: '/api/auth/register', payload: { username: 1 } }), status: 400, code: 'validation_failed' },
  { name: 'FST_ERR_NOT_FOUND: unknown route', request: () => ({ url: '/api/nothing' }), status: 404, code: 'not_found' },
  { name: 'FST_ERR_NOT_FOUND: unknown method', request: () => ({ method: 'DELETE', url: '/api/rooms' }), status: 404, code: 'not_found' }
]

describe('errors raised by Fastify and its plugins', () => {
  it.each(cases)('$name → $status $code', async ({ request, status, code }) => {
    const res = await app.inject(request())
    expect(res.statusCode, res.body).toBe(status)
    expectShape(res.json(), code)
    if (status === 416) expect(res.headers['content-range']).toMatch(/^bytes \*\/\d+$/)
  })

  it('wrote no error (and so no stack trace) to the log for any of them', () => {
    const errors = sink.lines.map((line) => JSON.parse(line) as { level: number, msg?: string }).filter((l) => l.level >= 50)
    expect(errors).toEqual([])
    expect(sink.text()).not.toMatch(/\n\s+at /)
  })
})

describe('errors Node\'s HTTP parser raises (Fastify\'s client error handler)', () => {
  let port: number
  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as AddressInfo).port
  })

  /** What the server writes back to raw bytes, until it closes the connection. */
  async function raw (request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request))
      let text = ''
      socket.on('data', (chunk) => { text += chunk.toString() })
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
    })
  }

  it.each([
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n', 400, 'validation_failed'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: localhost\r\nbroken header\r\n\r\n', 400, 'validation_failed'],
    ['headers larger than 16 KiB', `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'validation_failed']
  ] as const)('%s → %d in the contract\'s shape', async (_name, request, status, code) => {
    const text = await raw(request)
    const [head = '', body = ''] = text.split('\r\n\r\n')
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    expect(head.toLowerCase()).toContain('content-type: application/json')
    expectShape(JSON.parse(body), code)
  })
})
