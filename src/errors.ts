// The error catalogue: every failure a client can see has a code, a status and a sentence for a
// person. REST answers `{"error": {...}}`; the WebSocket hub sends the same code in an `error` frame.

export class AppError extends Error {
  constructor (
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Readonly<Record<string, string>>
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export interface ErrorBody {
  error: { code: string, message: string, details?: unknown }
}

export function errorBody (code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}

export const errors = {
  validation: (message: string, details?: unknown) => new AppError(400, 'validation_failed', message, details),
  unauthorized: (message = 'Log in first: this needs a valid bearer token.') => new AppError(401, 'unauthorized', message),
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'Wrong username or password.'),
  forbidden: (message: string) => new AppError(403, 'forbidden', message),
  notFound: (message = 'Nothing here.') => new AppError(404, 'not_found', message),
  roomNotFound: () => new AppError(404, 'room_not_found', 'No room has that id.'),
  usernameTaken: () => new AppError(409, 'username_taken', 'That username is taken; pick another.'),
  roomExists: () => new AppError(409, 'room_exists', 'A room with that name exists already.'),
  payloadTooLarge: (message: string) => new AppError(413, 'payload_too_large', message),
  unsupportedMediaType: (message: string) => new AppError(415, 'unsupported_media_type', message),
  misdirected: () => new AppError(421, 'misdirected_request',
    'This server does not answer to that host name. Use its address, or add the name to ALLOWED_HOSTS.'),
  rateLimited: (retryAfterSeconds: number, message = 'Too many requests; slow down and try again shortly.') =>
    new AppError(429, 'rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  unavailable: (message: string) => new AppError(503, 'unavailable', message)
}
