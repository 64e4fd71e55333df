// The error catalogue: every failure a client can see has a code, a status and a sentence for a
// person. REST answers `{"error": {...}}`; the WebSocket hub sends the same code in an `error` frame.
import { isStorageFull, isStorageLocked } from './storage/failures.js'

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
  rateLimited: (retryAfterSeconds: number, message = 'Too many requests; slow down and try again shortly.') =>
    new AppError(429, 'rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  unavailable: (message: string, retryAfterSeconds?: number) => new AppError(503, 'unavailable', message, undefined,
    retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  insufficientStorage: (message = 'The server\'s disk is full: nothing new can be stored. Try again later.') =>
    new AppError(507, 'insufficient_storage', message),
  databaseLocked: (retryAfterSeconds: number) =>
    errors.unavailable('The database is busy (locked by another program); nothing was stored. Try again shortly.', retryAfterSeconds)
}

/** A full disk (507) or a database locked by another program (503) as the client's error; null for anything else. */
export function storageAppError (error: unknown, retryAfterSeconds = 5): AppError | null {
  if (isStorageFull(error)) return errors.insufficientStorage()
  if (isStorageLocked(error)) return errors.databaseLocked(retryAfterSeconds)
  return null
}
