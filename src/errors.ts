// The error catalogue: every failure a client can see has a code, a status and a sentence for a
// person. REST answers `{"error": {...}}`; the WebSocket hub sends the same code in an `error` frame.
import { isStorageFull, isStorageLocked } from './storage/failures.js'

/**
 * Every code a client can see, with its HTTP status and the sentence used when no better one is
 * given. One line per code: a new failure starts with a line here. The socket's `error` frames take
 * their codes from here too (ErrorCode), so a code missing here is a type error there. Codes marked
 * "socket" are only ever sent in frames; their status is what REST would answer.
 */
export const catalogue = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  bad_request: { status: 400, message: 'The request was refused.' }, // any other 4xx Fastify raises keeps its own status
  invalid_json: { status: 400, message: 'Frames must be JSON text.' }, // socket
  unknown_type: { status: 400, message: 'Unknown frame type.' }, // socket
  unauthorized: { status: 401, message: 'Log in first: this needs a valid bearer token.' },
  invalid_credentials: { status: 401, message: 'Wrong username or password.' },
  forbidden: { status: 403, message: 'That is not allowed.' },
  banned: { status: 403, message: 'You are banned from this room.' },
  room_archived: { status: 403, message: 'This room is archived: it can be read but not written to.' },
  not_found: { status: 404, message: 'Nothing here.' },
  room_not_found: { status: 404, message: 'No room has that id.' },
  message_not_found: { status: 404, message: 'No message in this room has that id.' },
  message_deleted: { status: 409, message: 'That message has been deleted.' },
  edit_window_closed: { status: 403, message: 'This message can no longer be edited.' },
  invalid_emoji: { status: 400, message: 'A reaction is one emoji (at most 32 bytes).' },
  too_many_reactions: { status: 409, message: 'This message has as many different reactions as it can take (50).' },
  request_timeout: { status: 408, message: 'The request took too long to arrive.' },
  not_joined: { status: 409, message: 'Join the room first.' }, // socket
  username_taken: { status: 409, message: 'That username is taken; pick another.' },
  room_exists: { status: 409, message: 'A room with that name exists already.' },
  already_member: { status: 409, message: 'That person is a member already.' },
  owner_must_transfer: { status: 409, message: 'Hand ownership over to another member before leaving.' },
  user_not_found: { status: 404, message: 'No user has that id.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'This type of content is not accepted here.' },
  precondition_failed: { status: 412, message: 'The file has changed since the version the request names.' },
  range_not_satisfiable: { status: 416, message: 'That byte range is not in the file.' },
  misdirected_request: { status: 421, message: 'This server does not answer to that host name. Use its address, or add the name to ALLOWED_HOSTS.' },
  upgrade_required: { status: 426, message: 'This address is a WebSocket: connect with a WebSocket client (ws://…/ws?token=…).' },
  rate_limited: { status: 429, message: 'Too many requests; slow down and try again shortly.' },
  too_many_sockets: { status: 429, message: 'Too many open connections; close another tab first.' },
  internal: { status: 500, message: 'Something went wrong on the server; it has been logged.' },
  unavailable: { status: 503, message: 'The server is busy; try again shortly.' },
  media_unavailable: { status: 503, message: 'Uploads cannot be stored right now (the media folder is missing or not writable); try again later.' },
  insufficient_storage: { status: 507, message: 'The server is out of space for uploads; try again later.' }
} as const satisfies Record<string, { status: number, message: string }>

export type ErrorCode = keyof typeof catalogue

export class AppError extends Error {
  /** Always the catalogue's status for `code`. */
  readonly statusCode: number

  constructor (
    readonly code: ErrorCode,
    message: string = catalogue[code].message,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Readonly<Record<string, string>>
  ) {
    super(message)
    this.statusCode = catalogue[code].status
    this.name = 'AppError'
  }
}

export interface ErrorBody {
  error: { code: ErrorCode, message: string, details?: unknown }
}

export function errorBody (code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}

export const errors = {
  validation: (message: string, details?: unknown) => new AppError('validation_failed', message, details),
  unauthorized: (message?: string) => new AppError('unauthorized', message),
  invalidCredentials: () => new AppError('invalid_credentials'),
  forbidden: (message: string) => new AppError('forbidden', message),
  notFound: (message?: string) => new AppError('not_found', message),
  roomNotFound: () => new AppError('room_not_found'),
  messageNotFound: () => new AppError('message_not_found'),
  banned: () => new AppError('banned'),
  roomArchived: () => new AppError('room_archived'),
  userNotFound: (message?: string) => new AppError('user_not_found', message),
  usernameTaken: () => new AppError('username_taken'),
  roomExists: () => new AppError('room_exists'),
  payloadTooLarge: (message: string) => new AppError('payload_too_large', message),
  unsupportedMediaType: (message: string) => new AppError('unsupported_media_type', message),
  misdirected: () => new AppError('misdirected_request'),
  upgradeRequired: () => new AppError('upgrade_required', undefined, undefined, { Upgrade: 'websocket', Connection: 'Upgrade' }),
  rateLimited: (retryAfterSeconds: number, message?: string) =>
    new AppError('rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  unavailable: (message: string, retryAfterSeconds?: number) => new AppError('unavailable', message, undefined,
    retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  insufficientStorage: (message = 'The server\'s disk is full: nothing new can be stored. Try again later.') =>
    new AppError('insufficient_storage', message),
  databaseLocked: (retryAfterSeconds: number) =>
    errors.unavailable('The database is busy (locked by another program); nothing was stored. Try again shortly.', retryAfterSeconds)
}

/** A full disk (507) or a database locked by another program (503) as the client's error; null for anything else. */
export function storageAppError (error: unknown, retryAfterSeconds = 5): AppError | null {
  if (isStorageFull(error)) return errors.insufficientStorage()
  if (isStorageLocked(error)) return errors.databaseLocked(retryAfterSeconds)
  return null
}
