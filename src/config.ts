// Settings from the environment (and `.env`), validated once into a frozen, typed object.
// The names and defaults are the contract's Settings table; the rest are ours and documented in
// `.env.example`. Tests build a Config with `parseConfig` and never touch process.env.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { Fernet } from './crypto/fernet.js'
import { parseAllowedHost } from './security/host-check.js'
import { databaseTarget, type DatabaseTarget } from './storage/url.js'

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

/** `sqlite:///relative`, `sqlite:////absolute` or a plain path (as the Python seed wrote it). */
export function databasePath (url: string, cwd: string): string {
  if (url === ':memory:') return url
  const path = url.startsWith('sqlite:///') ? url.slice('sqlite:///'.length) : url
  if (path === '') throw new Error('no file in it')
  return isAbsolute(path) ? path : resolve(cwd, path)
}

/** JSON array or a comma-separated list. */
function parseOrigins (value: string): string[] {
  const text = value.trim()
  const list: unknown = text.startsWith('[') ? JSON.parse(text) : text.split(',')
  return z.array(z.string()).parse(list).map((origin) => origin.trim().replace(/\/+$/, '')).filter(Boolean)
}

const schema = z.object({
  PORT: int(0, 65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SECRET_KEY: z.string().optional(),
  ACCESS_TOKEN_EXPIRE_MINUTES: int(1, 525_600).default(120),
  DATABASE_URL: z.string().default('sqlite:///./chat.db'),
  ENCRYPTION_KEY: z.string().optional(),
  CORS_ALLOW_ORIGINS: z.string().default('["http://localhost:8000","http://127.0.0.1:8000"]'),
  ALLOWED_HOSTS: z.string().default(''),
  MEDIA_DIR: z.string().min(1).default('./media'),
  MAX_UPLOAD_MB: int(1, 4096).default(25),
  UPLOAD_QUOTA_MB: int(0, 10_000_000).default(1024),
  MESSAGES_PER_SECOND: int(0, 100_000).default(10),
  MAX_SOCKETS_PER_USER: int(0, 100_000).default(20),
  MAX_SOCKETS: int(0, 10_000_000).default(10_000),
  MAX_FRAME_BYTES: int(1024, 16 * 1024 * 1024).default(65_536),
  MAX_SOCKET_BUFFER_BYTES: int(16 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
  // Decimals allowed, so tests can use a fraction of a second.
  HEARTBEAT_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  REGISTRATIONS_PER_HOUR: int(0, 1_000_000).default(20),
  ROOMS_PER_HOUR: int(0, 1_000_000).default(10),
  BCRYPT_COST: int(4, 15).default(12),
  DATABASE_LOCK_WAIT_SECONDS: z.coerce.number().min(0.1).max(600).default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
})

const wanted: Record<string, string> = {
  PORT: 'a whole number from 0 to 65535',
  HOST: 'an address to listen on, e.g. 127.0.0.1 or 0.0.0.0',
  ACCESS_TOKEN_EXPIRE_MINUTES: 'a whole number of minutes from 1 to 525600',
  MAX_UPLOAD_MB: 'a whole number of megabytes from 1 to 4096',
  UPLOAD_QUOTA_MB: 'a whole number of megabytes, 0 for no limit',
  MESSAGES_PER_SECOND: 'a whole number, 0 for no limit',
  MAX_SOCKETS_PER_USER: 'a whole number, 0 for no limit',
  MAX_SOCKETS: 'a whole number, 0 for no limit',
  MAX_FRAME_BYTES: 'a whole number of bytes from 1024 to 16777216',
  MAX_SOCKET_BUFFER_BYTES: 'a whole number of bytes from 16384 to 1073741824',
  HEARTBEAT_SECONDS: 'a number of seconds from 0.1 to 3600',
  REGISTRATIONS_PER_HOUR: 'a whole number, 0 for no limit',
  ROOMS_PER_HOUR: 'a whole number, 0 for no limit',
  BCRYPT_COST: 'a whole number from 4 to 15',
  DATABASE_LOCK_WAIT_SECONDS: 'a number of seconds from 0.1 to 600',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent'
}

/** A setting that cannot be used: its message is the one line the process prints before it exits. */
export class ConfigError extends Error {
  constructor (setting: string, want: string) {
    super(`Invalid setting ${setting}: expected ${want}`)
    this.name = 'ConfigError'
  }
}

export interface Config {
  readonly port: number
  readonly host: string
  /** JWT signing secret. */
  readonly secretKey: string
  readonly tokenTtlMinutes: number
  /** Absolute path of the SQLite file, or ':memory:'; '' when the database is PostgreSQL. */
  readonly databasePath: string
  /** Which store DATABASE_URL picks (src/storage/url.ts). */
  readonly database: DatabaseTarget
  /** Fernet keys, the first encrypts. */
  readonly encryptionKeys: readonly string[]
  readonly corsOrigins: readonly string[]
  /** Host names (besides the built-in ones) requests may carry in Host; see security/host-check.ts. */
  readonly allowedHosts: readonly string[]
  readonly mediaDir: string
  readonly maxUploadBytes: number
  /** Bytes of uploads each user may keep; 0 = no limit. */
  readonly uploadQuotaBytes: number
  readonly messagesPerSecond: number
  readonly maxSocketsPerUser: number
  /** Open WebSocket connections in all; 0 = no limit. */
  readonly maxSockets: number
  /** Largest WebSocket frame a client may send (ws maxPayload; close 1009 beyond). */
  readonly maxFrameBytes: number
  /** A socket with more unsent bytes than this is a slow consumer: closed with 1013. */
  readonly maxSocketBufferBytes: number
  /** WebSocket ping interval; a socket that has not answered by the next ping is dropped. */
  readonly heartbeatMs: number
  readonly registrationsPerHour: number
  /** Rooms one user may create per hour; 0 = no limit. */
  readonly roomsPerHour: number
  readonly bcryptCost: number
  /** How long a write waits, without blocking, for a database locked by another program before it is refused (503). */
  readonly lockWaitMs: number
  readonly logLevel: string
  /** Warnings to log once the logger exists (e.g. a short SECRET_KEY). */
  readonly warnings: readonly string[]
}

export interface ConfigSources {
  /** Where relative paths and the key files live. */
  cwd?: string
  /** Create `.secret_key` / `.fernet_key` when the keys are not set (the server does; tests don't). */
  generateKeys?: boolean
}

/** Reads a kept key, or makes one and keeps it with mode 0600 so only this user can read it. */
function keptKey (file: string, make: () => string, generate: boolean, setting: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  if (!generate) throw new ConfigError(setting, `a value (or a ${file} file)`)
  const key = make()
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' })
  return key
}

export function parseConfig (env: Record<string, string | undefined>, sources: ConfigSources = {}): Config {
  const cwd = sources.cwd ?? process.cwd()
  // An empty value means "unset", as `.env.example` leaves the secrets.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''))
  const result = schema.safeParse(present)
  if (!result.success) {
    const setting = String(result.error.issues[0]?.path[0] ?? 'unknown')
    throw new ConfigError(setting, wanted[setting] ?? 'a valid value')
  }
  const s = result.data
  const warnings: string[] = []

  const secretKey = s.SECRET_KEY ??
    keptKey(resolve(cwd, '.secret_key'), () => randomBytes(48).toString('base64url'), sources.generateKeys ?? false, 'SECRET_KEY')
  if (Buffer.byteLength(secretKey) < 32) {
    warnings.push('SECRET_KEY is shorter than 32 bytes: anyone who guesses it can sign in as any user. Use a long random value, or unset it to have one generated.')
  }

  const encryptionKeys = (s.ENCRYPTION_KEY ??
    keptKey(resolve(cwd, '.fernet_key'), Fernet.generateKey, sources.generateKeys ?? false, 'ENCRYPTION_KEY'))
    .split(',').map((key) => key.trim()).filter(Boolean)
  if (encryptionKeys.length === 0 || !encryptionKeys.every((key) => Fernet.isValidKey(key))) {
    throw new ConfigError('ENCRYPTION_KEY', 'a Fernet key (url-safe base64 of 32 bytes), or several separated by commas')
  }

  let corsOrigins: string[]
  try {
    corsOrigins = parseOrigins(s.CORS_ALLOW_ORIGINS)
  } catch {
    throw new ConfigError('CORS_ALLOW_ORIGINS', 'a JSON array of origins or a comma-separated list')
  }

  const allowedHosts = s.ALLOWED_HOSTS.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean)
  if (!allowedHosts.every((entry) => parseAllowedHost(entry) !== null)) {
    throw new ConfigError('ALLOWED_HOSTS', 'comma-separated host names, each optionally with :port or a leading *. (e.g. chat.example.com,*.example.org)')
  }

  let database: DatabaseTarget
  try {
    database = databaseTarget(s.DATABASE_URL, cwd)
  } catch {
    throw new ConfigError('DATABASE_URL', 'postgres://user:password@host:5432/db, sqlite:///relative/path.db, sqlite:////absolute/path.db or a plain file path')
  }
  const dbPath = database.kind === 'sqlite' ? database.path : ''

  return Object.freeze({
    port: s.PORT,
    host: s.HOST,
    secretKey,
    tokenTtlMinutes: s.ACCESS_TOKEN_EXPIRE_MINUTES,
    databasePath: dbPath,
    database: Object.freeze(database),
    encryptionKeys: Object.freeze(encryptionKeys),
    corsOrigins: Object.freeze(corsOrigins),
    allowedHosts: Object.freeze(allowedHosts),
    mediaDir: resolve(cwd, s.MEDIA_DIR),
    maxUploadBytes: s.MAX_UPLOAD_MB * 1024 * 1024,
    uploadQuotaBytes: s.UPLOAD_QUOTA_MB * 1024 * 1024,
    messagesPerSecond: s.MESSAGES_PER_SECOND,
    maxSocketsPerUser: s.MAX_SOCKETS_PER_USER,
    maxSockets: s.MAX_SOCKETS,
    maxFrameBytes: s.MAX_FRAME_BYTES,
    maxSocketBufferBytes: s.MAX_SOCKET_BUFFER_BYTES,
    heartbeatMs: Math.round(s.HEARTBEAT_SECONDS * 1000),
    registrationsPerHour: s.REGISTRATIONS_PER_HOUR,
    roomsPerHour: s.ROOMS_PER_HOUR,
    bcryptCost: s.BCRYPT_COST,
    lockWaitMs: Math.round(s.DATABASE_LOCK_WAIT_SECONDS * 1000),
    logLevel: s.LOG_LEVEL,
    warnings: Object.freeze(warnings)
  })
}
