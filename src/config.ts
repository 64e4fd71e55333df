// Settings from the environment (and `.env`), validated once into a frozen, typed object.
// The names and defaults are the contract's Settings table; the rest are ours and documented in
// `.env.example`. Each setting is one row of `settings` below: its schema (with the default), the
// sentence an operator reads when the value is wrong, and the Config field it fills; the Config
// type is inferred from the rows. Tests build a Config with `parseConfig` and never touch process.env.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError } from './config-error.js'
import { Fernet } from './crypto/fernet.js'
import { parseAllowedHost } from './security/host-check.js'
import { DATABASE_FORMS, databaseTarget, type DatabaseTarget } from './storage/url.js'

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const MB = 1024 * 1024

export { ConfigError } from './config-error.js'
export { databasePath } from './storage/url.js'

/** JSON array or a comma-separated list. */
function parseOrigins (value: string): string[] {
  const text = value.trim()
  const list: unknown = text.startsWith('[') ? JSON.parse(text) : text.split(',')
  return z.array(z.string()).parse(list).map((origin) => origin.trim().replace(/\/+$/, '')).filter(Boolean)
}

/** A key file read this start, or made because it was missing. */
export interface KeyFile {
  readonly setting: 'SECRET_KEY' | 'ENCRYPTION_KEY'
  readonly path: string
  readonly generated: boolean
}

/** What a setting's `read` may use besides its own value. */
interface Context {
  readonly cwd: string
  /** NODE_ENV=production: what is only a warning elsewhere stops the start. */
  readonly production: boolean
  readonly warnings: string[]
  /** Reads a kept key, or makes one (written only once every setting is valid). */
  readonly keptKey: (setting: KeyFile['setting'], file: string, make: () => string) => string
  /** The key files read or made so far (the rows above this one). */
  readonly keyFiles: readonly KeyFile[]
}

interface Setting<F extends string, S extends z.ZodType, T> {
  /** The Config field this setting fills. */
  readonly field: F
  /** Validates a value that is set (not blank), and gives the default. */
  readonly schema: S
  /** What a good value looks like, for "Invalid setting NAME: expected …". */
  readonly want: string
  /** The field's value from the valid setting; throwing anything but a ConfigError means `want`. */
  readonly read: (value: z.output<S>, context: Context) => T
}

function setting<F extends string, S extends z.ZodType, T = z.output<S>> (
  field: F, schema: S, want: string, read?: (value: z.output<S>, context: Context) => T
): Setting<F, S, T> {
  return { field, schema, want, read: read ?? ((value) => value as T) }
}

const NO_LIMIT = 'a whole number, 0 for no limit'
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const settings = {
  PORT: setting('port', int(0, 65535).default(8000), 'a whole number from 0 to 65535'),
  HOST: setting('host', z.string().min(1).default('127.0.0.1'), 'an address to listen on, e.g. 127.0.0.1 or 0.0.0.0'),
  // JWT signing secret.
  SECRET_KEY: setting('secretKey', z.string().optional(), 'a value (or a .secret_key file)', (value, c) => {
    const key = value ?? c.keptKey('SECRET_KEY', '.secret_key', () => randomBytes(48).toString('base64url'))
    if (Buffer.byteLength(key) < 32) {
      if (c.production) throw new ConfigError('SECRET_KEY', 'at least 32 bytes when NODE_ENV=production (e.g. `openssl rand -base64 48`), or no value to have one generated')
      c.warnings.push('SECRET_KEY is shorter than 32 bytes: anyone who guesses it can sign in as any user. Use a long random value, or unset it to have one generated.')
    }
    return key
  }),
  ACCESS_TOKEN_EXPIRE_MINUTES: setting('tokenTtlMinutes', int(1, 525_600).default(120), 'a whole number of minutes from 1 to 525600'),
  // Absolute path of the SQLite file, or ':memory:'.
  // Which store: a SQLite file (its absolute path, or ':memory:') or PostgreSQL (src/storage/url.ts).
  DATABASE_URL: setting('database', z.string().default('sqlite:///./chat.db'), DATABASE_FORMS,
    (url, c): Readonly<DatabaseTarget> => Object.freeze(databaseTarget(url, c.cwd))),
  // Fernet keys, the first encrypts.
  ENCRYPTION_KEY: setting('encryptionKeys', z.string().optional(), 'a Fernet key (url-safe base64 of 32 bytes), or several separated by commas', (value, c) => {
    const keys = (value ?? c.keptKey('ENCRYPTION_KEY', '.fernet_key', Fernet.generateKey)).split(',').map((key) => key.trim()).filter(Boolean)
    if (keys.length === 0 || !keys.every((key) => Fernet.isValidKey(key))) throw new Error('not a key')
    return Object.freeze(keys)
  }),
  CORS_ALLOW_ORIGINS: setting('corsOrigins', z.string().default('["http://localhost:8000","http://127.0.0.1:8000"]'),
    'a JSON array of origins or a comma-separated list', (value) => {
      const origins = parseOrigins(value)
      // The WebSocket origin check is what stops cross-site WebSocket hijacking; "*" would switch it off.
      if (origins.some((origin) => origin.includes('*'))) {
        throw new ConfigError('CORS_ALLOW_ORIGINS', 'the origins that may use the API, e.g. https://chat.example.com, not "*": with "*" any website could open WebSockets and call the API as your signed-in users')
      }
      return Object.freeze(origins)
    }),
  // Host names (besides the built-in ones) requests may carry in Host; see security/host-check.ts.
  ALLOWED_HOSTS: setting('allowedHosts', z.string().default(''),
    'comma-separated host names, each optionally with :port or a leading *. (e.g. chat.example.com,*.example.org)', (value) => {
      const hosts = value.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean)
      if (!hosts.every((entry) => parseAllowedHost(entry) !== null)) throw new Error('not a host')
      return Object.freeze(hosts)
    }),
  MEDIA_DIR: setting('mediaDir', z.string().min(1).default('./media'), 'a folder path', (dir, c) => resolve(c.cwd, dir)),
  MAX_UPLOAD_MB: setting('maxUploadBytes', int(1, 4096).default(25), 'a whole number of megabytes from 1 to 4096', (mb) => mb * MB),
  // Bytes of uploads each user may keep; 0 = no limit.
  UPLOAD_QUOTA_MB: setting('uploadQuotaBytes', int(0, 10_000_000).default(1024), 'a whole number of megabytes, 0 for no limit', (mb) => mb * MB),
  MESSAGES_PER_SECOND: setting('messagesPerSecond', int(0, 100_000).default(10), NO_LIMIT),
  // Edits, reactions and pins per user per second (bursts of 3×); deletes are never limited.
  CHANGES_PER_SECOND: setting('changesPerSecond', int(0, 100_000).default(10), NO_LIMIT),
  MAX_SOCKETS_PER_USER: setting('maxSocketsPerUser', int(0, 100_000).default(20), NO_LIMIT),
  // Open WebSocket connections in all; 0 = no limit.
  MAX_SOCKETS: setting('maxSockets', int(0, 10_000_000).default(10_000), NO_LIMIT),
  // Largest WebSocket frame a client may send (ws maxPayload; close 1009 beyond).
  MAX_FRAME_BYTES: setting('maxFrameBytes', int(1024, 16 * MB).default(65_536), 'a whole number of bytes from 1024 to 16777216'),
  // A socket with more unsent bytes than this is a slow consumer: closed with 1013.
  MAX_SOCKET_BUFFER_BYTES: setting('maxSocketBufferBytes', int(16 * 1024, 1024 * MB).default(MB), 'a whole number of bytes from 16384 to 1073741824'),
  // WebSocket ping interval; a socket that has not answered by the next ping is dropped.
  // Decimals allowed, so tests can use a fraction of a second.
  HEARTBEAT_SECONDS: setting('heartbeatMs', z.coerce.number().min(0.1).max(3600).default(30), 'a number of seconds from 0.1 to 3600',
    (seconds) => Math.round(seconds * 1000)),
  REGISTRATIONS_PER_HOUR: setting('registrationsPerHour', int(0, 1_000_000).default(20), NO_LIMIT),
  // Rooms one user may create per hour; 0 = no limit.
  ROOMS_PER_HOUR: setting('roomsPerHour', int(0, 1_000_000).default(10), NO_LIMIT),
  // How long after sending a message its author may edit it; 0 = no limit (deleting is always allowed).
  // Recent plaintext kept in memory so history pages are not decrypted again (crypto/plaintext-cache.ts).
  PLAINTEXT_CACHE_MB: setting('plaintextCacheBytes', int(0, 4096).default(32), 'a whole number of megabytes from 0 (off) to 4096', (mb) => mb * MB),
  EDIT_WINDOW_MINUTES: setting('editWindowMinutes', int(0, 5_256_000).default(0), 'a whole number of minutes, 0 for no limit'),
  BCRYPT_COST: setting('bcryptCost', int(4, 15).default(12), 'a whole number from 4 to 15'),
  // How long a write waits, without blocking, for a database locked by another program before it is refused (503).
  DATABASE_LOCK_WAIT_SECONDS: setting('lockWaitMs', z.coerce.number().min(0.1).max(600).default(5), 'a number of seconds from 0.1 to 600',
    (seconds) => Math.round(seconds * 1000)),
  // off: messages are not indexed and GET /api/search answers 503 (no index at rest beyond what is there already).
  SEARCH_INDEX: setting('searchIndex', z.enum(['on', 'off']).default('on'), 'on or off', (value) => value === 'on'),
  // Messages the background search indexing (src/search/backfill.ts) takes at a time; 0 turns it off (npm run reindex instead).
  SEARCH_BACKFILL_BATCH: setting('searchBackfillBatch', int(0, 5000).default(200), 'a whole number from 0 (off) to 5000'),
  LOG_LEVEL: setting('logLevel', z.enum(LEVELS).default('info'), `one of ${LEVELS.join(', ')}`),
  // The bus between nodes (src/bus/); null: one node. After the key rows, whose files it refuses.
  REDIS_URL: setting('redisUrl', z.string().optional(), 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379', (value, c) => {
    if (value === undefined) return null
    if (!/^rediss?:$/.test(new URL(value.trim()).protocol)) throw new Error('not redis')
    // Every node must sign and encrypt with the same keys: key files made per node would split the cluster.
    const fromFile = c.keyFiles[0]
    if (fromFile !== undefined) {
      throw new ConfigError(fromFile.setting, `a value set in the environment (or .env) when REDIS_URL is set: every node must use the same one, and ${fromFile.path} is this node's own`)
    }
    return value.trim()
  }),
  // Every key and channel name starts with it: chats (or test runs) sharing one Redis stay apart.
  REDIS_PREFIX: setting('redisPrefix', z.string().regex(/^[\w.:-]{1,64}$/).default('secure-chat:'), 'letters, digits and . _ : - (at most 64)')
}

type Settings = typeof settings
type Fields = { readonly [K in keyof Settings as Settings[K]['field']]: ReturnType<Settings[K]['read']> }

export interface Config extends Fields {
  /** Warnings for the operator (e.g. a short SECRET_KEY), printed at start. */
  readonly warnings: readonly string[]
  /** The key files behind SECRET_KEY and ENCRYPTION_KEY when they are not set; relative to `cwd`. */
  readonly keyFiles: readonly KeyFile[]
  /** The SQLite file's absolute path (or ':memory:'); '' when the database is PostgreSQL. */
  readonly databasePath: string
}

export interface ConfigSources {
  /** Where relative paths and the key files live. */
  cwd?: string
  /** Create `.secret_key` / `.fernet_key` when the keys are not set (the server does; tests don't). */
  generateKeys?: boolean
}

export function parseConfig (env: Record<string, string | undefined>, sources: ConfigSources = {}): Config {
  const cwd = sources.cwd ?? process.cwd()
  // An empty value means "unset", as `.env.example` leaves the secrets.
  const present = (name: string): string | undefined => env[name]?.trim() === '' ? undefined : env[name]
  const names = Object.keys(settings) as Array<keyof Settings>

  // Every value is checked before any is used, so a bad one never leaves a key file behind.
  const valid = new Map<string, unknown>()
  for (const name of names) {
    const result = settings[name].schema.safeParse(present(name))
    if (!result.success) throw new ConfigError(name, settings[name].want)
    valid.set(name, result.data)
  }

  const warnings: string[] = []
  const keyFiles: KeyFile[] = []
  const toWrite: Array<[path: string, key: string]> = []
  const context: Context = {
    cwd,
    production: env.NODE_ENV === 'production',
    warnings,
    keyFiles,
    keptKey (name, file, make) {
      const path = resolve(cwd, file)
      if (existsSync(path)) {
        keyFiles.push({ setting: name, path, generated: false })
        return readFileSync(path, 'utf8').trim()
      }
      if (sources.generateKeys !== true) throw new ConfigError(name, `a value (or a ${path} file)`)
      const key = make()
      keyFiles.push({ setting: name, path, generated: true })
      toWrite.push([path, key])
      return key
    }
  }

  const config: Record<string, unknown> = {}
  for (const name of names) {
    const { field, want, read } = settings[name] as Setting<string, z.ZodType, unknown>
    try {
      config[field] = read(valid.get(name), context)
    } catch (error) {
      throw error instanceof ConfigError ? error : new ConfigError(name, want)
    }
  }
  // Mode 0600: only this user can read the keys. 'wx': never overwrite one another start made.
  for (const [path, key] of toWrite) writeFileSync(path, key + '\n', { mode: 0o600, flag: 'wx' })
  const database = config.database as DatabaseTarget
  const databasePath = database.kind === 'sqlite' ? database.path : ''
  return Object.freeze({ ...config, databasePath, warnings: Object.freeze(warnings), keyFiles: Object.freeze(keyFiles) }) as unknown as Config
}
