// One place that turns every failure into the contract's error shape. 5xx answers never carry the
// real message (it may hold a path, SQL or a key); the log gets it instead.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { AppError, errorBody, storageAppError, type ErrorCode } from './errors.js'

/** Fastify's own error codes that a client can cause, mapped to ours. */
const FASTIFY_CODES: Record<number, [code: ErrorCode, message: string]> = {
  400: ['validation_failed', 'The request is malformed.'],
  401: ['unauthorized', 'Log in first: this needs a valid bearer token.'],
  403: ['forbidden', 'That is not allowed.'],
  404: ['not_found', 'Nothing here.'],
  405: ['not_found', 'Nothing here.'],
  406: ['validation_failed', 'The request asks for a format this server does not give.'],
  408: ['request_timeout', 'The request took too long to arrive.'],
  // @fastify/send on static files (the web client, /docs): a stale If-Match / If-Unmodified-Since.
  412: ['precondition_failed', 'The file has changed since the version the request names.'],
  413: ['payload_too_large', 'The request body is too large.'],
  414: ['validation_failed', 'The URL is too long.'],
  415: ['unsupported_media_type', 'Send JSON (Content-Type: application/json).'],
  416: ['range_not_satisfiable', 'That byte range is not in the file.'],
  429: ['rate_limited', 'Too many requests; slow down and try again shortly.'],
  431: ['validation_failed', 'The request headers are too large.']
}

const CLEAR_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty; send a JSON object.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send JSON (Content-Type: application/json).',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_BAD_URL: 'The URL is not valid (a broken %-encoding).'
}

/** A 4xx we have no entry for still is the client's: its status, never a 500. */
const OTHER_CLIENT_ERROR: [code: ErrorCode, message: string] = ['bad_request', 'The server cannot answer this request.']

/** Security events, with an `event` field to filter on. Never the token or body: URL route and Origin only. */
const REFUSALS: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 429: 'rate_limited' }

function logRefusal (request: FastifyRequest, status: number, message: string): void {
  const event = REFUSALS[status]
  if (event === undefined) return
  const fields = { event, url: request.routeOptions.url, origin: request.headers.origin }
  if (status === 401) request.log.info(fields, message)
  else request.log.warn(fields, message)
}

function sendClientError (request: FastifyRequest, reply: FastifyReply, status: number, error: FastifyError): FastifyReply {
  const [code, message] = FASTIFY_CODES[status] ?? OTHER_CLIENT_ERROR
  logRefusal(request, status, message)
  // A 416 says how long the file is (RFC 9110 §15.5.17); @fastify/send puts that on the error.
  const range = (error as { headers?: Record<string, unknown> }).headers?.['Content-Range']
  if (status === 416 && typeof range === 'string') reply.header('content-range', range)
  return reply.code(status).send(errorBody(code, CLEAR_MESSAGES[error.code] ?? message))
}

/**
 * Errors Fastify raises before a request reaches any route or hook (a broken %-encoding in the
 * path: FST_ERR_BAD_URL), which the error handler never sees. Passed as `frameworkErrors`.
 */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  if (status < 500) {
    sendClientError(request, reply, status, error)
    return
  }
  request.log.error({ err: error }, 'request failed')
  reply.code(500).send(errorBody('internal', 'Something went wrong on the server; it has been logged.'))
}

/**
 * Requests Node's HTTP parser refuses (not HTTP, a header over 16 KiB, a request that took too
 * long): the contract's shape instead of Fastify's own. Passed as `clientErrorHandler`.
 */
export function clientErrorHandler (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const [code, message] = FASTIFY_CODES[status]!
  this.log.debug({ err: error }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, status === 400 ? 'The request is not valid HTTP.' : message))
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(error)
}

export function setErrorHandlers (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers !== undefined) reply.headers(error.headers)
      logRefusal(request, error.statusCode, error.message)
      return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.details))
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body'
      const details = error.validation.map((issue) => ({
        path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: issue.message ?? 'is not valid'
      }))
      const first = details[0]!
      const field = first.path === '' ? '' : `${first.path} `
      return reply.code(400).send(errorBody('validation_failed', `Invalid ${where}: ${field}${first.message}`, details))
    }
    // JSON prototype poisoning (`__proto__`, `constructor.prototype`) arrives as a plain 400 SyntaxError.
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    // A full disk (507) or a database locked by another program (503): any write can meet them.
    const storage = storageAppError(error, app.config.lockWaitMs / 1000)
    if (storage !== null) {
      request.log.warn({ err: error, event: storage.code }, storage.message)
      if (storage.headers !== undefined) reply.headers(storage.headers)
      return reply.code(storage.statusCode).send(errorBody(storage.code, storage.message))
    }
    if (status < 500) return sendClientError(request, reply, status, error)
    request.log.error({ err: error }, 'request failed')
    return reply.code(500).send(errorBody('internal', 'Something went wrong on the server; it has been logged.'))
  })

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `Nothing at ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.`))
  })
}
