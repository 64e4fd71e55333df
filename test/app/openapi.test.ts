// /docs/json is a valid OpenAPI 3 document (Redocly's linter, its strict rule set) and a true one:
// every route the app registers is in it, and every status a route answers to a probe (no token,
// bad or unknown ids, bodies of each content type, a body too large) is documented for that route.
// The probes are generic: a route added later without documentation fails here.
import { createConfig, lintFromString } from '@redocly/openapi-core'
import type { FastifyInstance, InjectOptions, RouteOptions } from 'fastify'
import { rmSync } from 'node:fs'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { makeTestConfig, registerUser, tempDir } from '../helper.js'

interface Operation {
  operationId?: string
  security?: Array<Record<string, string[]>>
  parameters?: Array<{ in: string, name: string, schema: { pattern?: string } }>
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, { format?: string }> } }> }
  responses: Record<string, { headers?: Record<string, unknown>, content?: Record<string, unknown> }>
}
interface Document {
  openapi: string
  security: Array<Record<string, string[]>>
  paths: Record<string, Record<string, Operation>>
}

/** Registered routes that are not API operations, and why. */
function excluded (route: RouteOptions): string | null {
  // Fastify adds a HEAD twin to every GET: the same answer without a body (checked below to have its GET).
  if (route.method === 'HEAD') return 'head'
  // Swagger UI's own pages and files, and this document itself.
  if (route.url === '/docs' || route.url.startsWith('/docs/')) return 'docs'
  // @fastify/static serving public/ (the web client's files), not an API.
  if (route.url === '/*') return 'static'
  // @fastify/cors' preflight answer, for every path.
  if (route.method === 'OPTIONS' && route.url === '*') return 'preflight'
  // The catch-all that answers 404 so that nothing under /media/ reaches public/'s files.
  if (route.url === '/media/*') return 'media catch-all'
  return null
}

/** Problems Redocly reports that are true of this API, not mistakes in the document. */
const ACCEPTED: Array<{ rule: string, pointer?: string, why: string }> = [
  { rule: 'info-license-strict', why: 'the project names no license yet (package.json has none), so there is no license URL to give' },
  { rule: 'operation-2xx-response', pointer: '#/paths/~1ws/get/responses', why: 'a WebSocket upgrade succeeds with 101' },
  { rule: 'operation-4xx-response', pointer: '#/paths/~1api~1health/get/responses', why: 'health answers 200 or 503, never a 4xx' }
]

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const toOpenapiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}')
const fill = (url: string, value: string): string => url.replace(/:(\w+)/g, value)

let app: FastifyInstance
let dir: string
let doc: Document
const routes: RouteOptions[] = []
let user: { username: string, password: string }

beforeAll(async () => {
  dir = tempDir()
  // Rate limits on, so that their 429s must be documented; small uploads, so that a probe can pass the limit.
  const config = makeTestConfig({ REGISTRATIONS_PER_HOUR: '1000', ROOMS_PER_HOUR: '1000', MAX_UPLOAD_MB: '1' }, dir)
  // Every route as registered, hidden ones too: the hook goes on before any plugin runs.
  const collect = (message: unknown): void => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => { routes.push(route) })
  }
  subscribe('fastify.initialization', collect)
  try {
    app = await buildApp(config, { logger: false })
  } finally {
    unsubscribe('fastify.initialization', collect)
  }
  await app.ready()
  doc = (await app.inject({ url: '/docs/json' })).json()
  user = await registerUser(app)
})
afterAll(async () => {
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A fresh token per probe: a probe of logout must not end the next probe's session. */
async function login (): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: user.password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return res.json<{ token: string }>().token
}

const api = (): Array<{ route: RouteOptions, path: string, method: string }> => routes
  .filter((route) => excluded(route) === null)
  .map((route) => ({ route, path: toOpenapiPath(route.url), method: String(route.method).toLowerCase() }))

describe('the OpenAPI document', () => {
  it('is OpenAPI 3 and passes Redocly\'s strict rules', async () => {
    expect(doc.openapi).toMatch(/^3\./)
    const config = await createConfig({ extends: ['recommended-strict'] })
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/docs/json', config })
    const left = problems
      .map((p) => ({ rule: p.ruleId, pointer: p.location[0]?.pointer, message: p.message }))
      .filter((p) => !ACCEPTED.some((a) => a.rule === p.rule && (a.pointer === undefined || a.pointer === p.pointer)))
    expect(left).toEqual([])
    // Each accepted problem is still there: once fixed, its entry goes.
    for (const a of ACCEPTED) {
      expect(problems.some((p) => p.ruleId === a.rule && (a.pointer === undefined || p.location[0]?.pointer === a.pointer)), a.rule).toBe(true)
    }
  })

  it('has every route the app registers, and nothing else', () => {
    expect(routes.length).toBeGreaterThan(10)
    const registered = api().map(({ method, path }) => `${method} ${path}`).sort()
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m} ${path}`)).sort()
    expect(documented).toEqual(registered)
    // A HEAD route is only ever the twin of a documented GET.
    for (const head of routes.filter((r) => r.method === 'HEAD' && excluded({ ...r, method: 'GET' }) === null)) {
      expect(doc.paths[toOpenapiPath(head.url)]?.get, head.url).toBeDefined()
    }
  })

  it('documents every status a route answers, and which routes need no token', async () => {
    const missing: string[] = []
    for (const { route, path, method } of api()) {
      const op = doc.paths[path]?.[method]
      if (op === undefined) {
        missing.push(`${method.toUpperCase()} ${path} is not documented`)
        continue
      }
      const documents = (status: number, probe: string, body?: string): void => {
        const response = op.responses[String(status)]
        if (response === undefined) return void missing.push(`${method.toUpperCase()} ${path}: ${status} (${probe}) is not documented`)
        // A documented JSON error is the contract's error shape; a documented empty answer is empty.
        if (body === undefined || status < 400) return
        const shaped = /^\{"error":\{"code":"[a-z_]+","message":"/.test(body)
        if (shaped !== (response.content?.['application/json'] !== undefined)) {
          missing.push(`${method.toUpperCase()} ${path} answered ${status} to ${probe} with ${JSON.stringify(body.slice(0, 40))}`)
        }
      }
      const probe = async (name: string, options: InjectOptions, auth = true): Promise<number> => {
        const headers = { ...(auth ? { authorization: `Bearer ${await login()}` } : {}), ...options.headers }
        const res = await app.inject({ method: route.method as 'GET', url: fill(route.url, '1'), ...options, headers })
        documents(res.statusCode, name, res.body)
        return res.statusCode
      }

      // Without a token: a 401 `unauthorized` means the route needs one, and the document must say so.
      const anonymous = await app.inject({ method: route.method as 'GET', url: fill(route.url, '1') })
      documents(anonymous.statusCode, 'no token', anonymous.body)
      const needsToken = anonymous.statusCode === 401 && anonymous.json().error.code === 'unauthorized'
      const security = op.security ?? doc.security
      if ((security.length > 0) !== needsToken) missing.push(`${method.toUpperCase()} ${path} ${needsToken ? 'needs' : 'needs no'} token, not as documented`)

      if (route.url.includes(':')) {
        // Probed without a valid body, a POST stops at 400 before it looks the id up.
        documents(404, 'an id that names nothing')
        await probe('a malformed path parameter', { url: fill(route.url, 'x') })
        await probe('an unknown id', { url: fill(route.url, '999999999') })
      }
      for (const param of op.parameters?.filter((p) => p.in === 'query') ?? []) {
        await probe(`a malformed ?${param.name}=`, { query: { [param.name]: '%00' } })
      }
      if (typeof route.config?.rateLimit === 'object') documents(429, 'its rate limit')

      const takesBody = route.schema?.body !== undefined || route.schema?.multipart !== undefined || op.requestBody !== undefined
      if (!takesBody) continue
      const accepted = Object.keys(op.requestBody?.content ?? {})
      await probe('a text/plain body', { headers: { 'content-type': 'text/plain' }, payload: 'x' })
      const bodies: Record<string, string> = {
        'application/json': '{"unexpected":1}',
        'application/x-www-form-urlencoded': 'unexpected=1',
        'multipart/form-data; boundary=b': '--b\r\nContent-Disposition: form-data; name="unexpected"\r\n\r\n1\r\n--b--\r\n'
      }
      for (const [type, payload] of Object.entries(bodies)) {
        const status = await probe(`a ${type} body`, { headers: { 'content-type': type }, payload })
        // Every type the route takes is in the document (a type it refuses answers 415).
        if (status !== 415 && !accepted.includes(type.split(';')[0]!)) missing.push(`${method.toUpperCase()} ${path} takes ${type} bodies, undocumented`)
        if (status === 415 && accepted.includes(type.split(';')[0]!)) missing.push(`${method.toUpperCase()} ${path} refuses ${type}, documented`)
      }
      const type = accepted[0] === 'multipart/form-data' ? 'multipart/form-data; boundary=b' : accepted[0]!
      await probe('a body too large', { headers: { 'content-type': type }, payload: Buffer.alloc(1.2 * 1024 * 1024, 'a') })
    }
    expect(missing).toEqual([])
  })

  it('documents the 429s with their Retry-After header', () => {
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) {
        if (op.responses['429'] !== undefined) expect(op.responses['429'].headers?.['Retry-After']).toBeDefined()
      }
    }
  })

  it('documents the 503 of a full password queue on register and login', () => {
    expect(doc.paths['/api/auth/register']!.post!.responses['503']).toBeDefined()
    expect(doc.paths['/api/auth/login']!.post!.responses['503']).toBeDefined()
  })

  it('types after= as the server reads it: 0 or any id', async () => {
    const after = doc.paths['/api/rooms/{roomId}/messages']!.get!.parameters!.find((p) => p.name === 'after')!
    const pattern = new RegExp(after.schema.pattern!)
    const token = await login()
    for (const value of ['0', '95', '1.5', 'x']) {
      const res = await app.inject({ url: `/api/rooms/1/messages?after=${value}`, headers: { authorization: `Bearer ${token}` } })
      expect(pattern.test(value), `${value}: ${res.statusCode} ${res.body}`).toBe(res.statusCode === 200)
    }
  })

  it('gives uploads a multipart body with a file part (a file input in Swagger UI)', () => {
    const body = doc.paths['/api/rooms/{roomId}/uploads']!.post!.requestBody!
    expect(body.content['multipart/form-data']!.schema.properties!.file!.format).toBe('binary')
  })
})
