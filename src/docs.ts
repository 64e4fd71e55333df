// The OpenAPI document, generated from the same zod schemas that validate requests, at /docs
// (/docs/json). What a route schema cannot know is added here, for every route at once: its
// operationId, whether it needs a token, the errors any body, parameter or rate limit can cause,
// the multipart body of uploads and the WebSocket upgrade. test/app/openapi.test.ts lints the
// document and checks it against the routes the app really has and what they really answer.
// @see https://github.com/fastify/fastify-swagger
import fastifySwagger, { type SwaggerTransform } from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { z, type ZodType } from 'zod'
import { ErrorResponse } from './schemas.js'

declare module 'fastify' {
  interface FastifySchema {
    /** The parts of a multipart body, for the document only: the handler reads them itself. */
    multipart?: ZodType
  }
}

/** Routes anyone may call; every other one needs a bearer token (the document's default). */
const PUBLIC = new Set(['GET /api/health', 'POST /api/auth/register', 'POST /api/auth/login', 'GET /media/:name'])

/** What each error status means here, for responses that only say "an error". */
const ERROR_TEXT: Record<string, string> = {
  400: '`validation_failed`: the request is malformed; `message` names the field',
  401: '`unauthorized`: no valid bearer token (log in again)',
  403: '`forbidden`',
  404: '`not_found` or `room_not_found`',
  409: 'A conflict (`username_taken`, `room_exists`)',
  413: '`payload_too_large`: the body is over the limit',
  415: '`unsupported_media_type`: send the body in a content type listed here',
  429: '`rate_limited`: slow down; try again after `Retry-After` seconds',
  503: '`unavailable`: try again shortly'
}
const GENERIC_ERROR = ErrorResponse.description

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { license?: string }

/** `POST /api/rooms/:roomId/messages` → `postRoomsByRoomIdMessages`: unique per route, stable. */
export function operationId (method: string, url: string): string {
  const words = url.split('/').filter((part) => part !== '' && part !== 'api')
    .map((part) => (part.startsWith(':') ? `By-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/)).filter((word) => word !== '')
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')
}

/** The upgrade at /ws: @fastify/websocket hides it, but its refusals are plain HTTP answers. */
const websocketSchema = {
  tags: ['realtime'],
  summary: 'Open the WebSocket',
  description: 'A WebSocket upgrade (use a WebSocket client, not "Try it out"). The token goes in `?token=` or as the ' +
    'subprotocol pair `Sec-WebSocket-Protocol: bearer, <token>`. The frames are described in the README.',
  security: [{ socketToken: [] }],
  response: {
    101: z.null().describe('Switching Protocols: the socket is open; its first frame is `{"type":"ready","user"}`'),
    401: ErrorResponse.describe('`unauthorized`: no token, or not a valid one'),
    403: ErrorResponse.describe('`forbidden`: the page\'s Origin may not open sockets here'),
    426: ErrorResponse.describe('`upgrade_required`: a plain GET, not a WebSocket upgrade'),
    429: ErrorResponse.describe('`too_many_sockets`: this user has MAX_SOCKETS_PER_USER open already'),
    503: ErrorResponse.describe('`unavailable`: the server has all the sockets it can take')
  }
}

/** Whether a path can be refused by its parameters' schema (`:name` of /media takes any text: that is a 404). */
function refusesParams (params: unknown, url: string): boolean {
  if (params === undefined) return false
  if (!(params instanceof z.ZodType)) return true
  const junk = Object.fromEntries([...url.matchAll(/:(\w+)/g)].map(([, name]) => [name, 'x']))
  return !params.safeParse(junk).success
}

const transform: SwaggerTransform = (document) => {
  const { route, url } = document
  const method = String(route.method)
  if ((route as { websocket?: boolean }).websocket === true || (route as { wsHandler?: unknown }).wsHandler !== undefined) {
    return { url, schema: { ...jsonSchemaTransform({ ...document, schema: websocketSchema }).schema, operationId: operationId(method, url) } }
  }
  const schema = route.schema ?? {}
  if (schema.hide === true) return jsonSchemaTransform(document)

  const isPublic = PUBLIC.has(`${method} ${url}`)
  const body = schema.body ?? schema.multipart
  // What the app adds to every route of the kind; the route's own descriptions win.
  const errors: Record<number, ZodType> = {}
  if (!isPublic) errors[401] = ErrorResponse
  if (body !== undefined || schema.querystring !== undefined || refusesParams(schema.params, url)) errors[400] = ErrorResponse
  if (body !== undefined) Object.assign(errors, { 413: ErrorResponse, 415: ErrorResponse })
  if (typeof route.config?.rateLimit === 'object') errors[429] = ErrorResponse
  const response = { ...errors, ...(schema.response as Record<number, ZodType> | undefined) }

  const { multipart: _, ...rest } = schema
  const out = jsonSchemaTransform({ ...document, schema: { ...rest, body, response } })
  return { url, schema: { ...out.schema, operationId: operationId(method, url), ...(isPublic ? { security: [] } : {}) } }
}

interface ResponseObject { description: string, content?: unknown, headers?: unknown }
interface Paths { [path: string]: { [method: string]: { responses: Record<string, ResponseObject> } } }

function nullOnly (content: unknown): boolean {
  const types = Object.values((content ?? {}) as Record<string, { schema?: { enum?: unknown[] } }>)
  return types.length > 0 && types.every(({ schema }) => schema?.enum?.length === 1 && schema.enum[0] === null)
}

/** Wording the route schemas cannot give: status texts, no body where HTTP allows none, Retry-After. */
function finish (paths: Paths): void {
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (response.description === 'Default Response') response.description = STATUS_CODES[status] ?? status
        if (response.description === GENERIC_ERROR && ERROR_TEXT[status] !== undefined) response.description = ERROR_TEXT[status]
        // z.null() and z.undefined() answers have no body at all.
        if (['101', '204', '304'].includes(status) || nullOnly(response.content)) delete response.content
        if (status === '429') {
          response.headers = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer', minimum: 1 } } }
        }
      }
    }
  }
}

const docs: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Secure Chat',
        description: 'REST API of Secure Chat. The WebSocket protocol at /ws is described in the README. ' +
          'Every failure has the shape `{"error":{"code","message","details"?}}`; besides the answers listed, ' +
          'any route may answer 500 `internal`, and 503 while the server shuts down.',
        version: '1.0.0',
        license: { name: pkg.license ?? 'UNLICENSED' }
      },
      // Relative: the API is wherever this document was fetched from (LAN address, proxy, localhost).
      servers: [{ url: '/', description: 'This server' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          socketToken: { type: 'apiKey', in: 'query', name: 'token', description: 'The bearer token, for the WebSocket upgrade' }
        }
      },
      security: [{ bearer: [] }]
    },
    transform,
    transformObject: (document) => {
      const openapi = 'openapiObject' in document ? document.openapiObject : document.swaggerObject
      finish(openapi.paths as Paths)
      return openapi
    }
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}

// fp: swagger must see the routes registered after it, across the whole app.
export default fp(docs, { name: 'docs' })
