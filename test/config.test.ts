import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, databasePath, parseConfig } from '../src/config.js'
import { Fernet } from '../src/crypto/fernet.js'

const dir = () => mkdtempSync(join(tmpdir(), 'secure-chat-config-'))
const keys = { SECRET_KEY: 'x'.repeat(40), ENCRYPTION_KEY: Fernet.generateKey() }

describe('parseConfig', () => {
  it('gives the contract defaults', () => {
    const cwd = dir()
    const config = parseConfig(keys, { cwd })
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      tokenTtlMinutes: 120,
      databasePath: join(cwd, 'chat.db'),
      corsOrigins: ['http://localhost:8000', 'http://127.0.0.1:8000'],
      mediaDir: join(cwd, 'media'),
      maxUploadBytes: 25 * 1024 * 1024,
      messagesPerSecond: 10,
      maxSocketsPerUser: 20,
      registrationsPerHour: 20,
      bcryptCost: 12
    })
    expect(Object.isFrozen(config)).toBe(true)
    expect(config.warnings).toEqual([])
  })

  it.each([
    ['PORT', 'eighty', /Invalid setting PORT: expected a whole number from 0 to 65535/],
    ['PORT', '70000', /PORT/],
    ['ACCESS_TOKEN_EXPIRE_MINUTES', '-5', /ACCESS_TOKEN_EXPIRE_MINUTES/],
    ['MAX_UPLOAD_MB', '1.5', /MAX_UPLOAD_MB/],
    ['BCRYPT_COST', '3', /BCRYPT_COST/],
    ['ENCRYPTION_KEY', 'not-a-key', /Invalid setting ENCRYPTION_KEY: expected a Fernet key/],
    ['ENCRYPTION_KEY', `${Fernet.generateKey()},oops`, /ENCRYPTION_KEY/],
    ['CORS_ALLOW_ORIGINS', '["unterminated', /CORS_ALLOW_ORIGINS/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/]
  ])('refuses %s=%s with one line naming it', (name, value, message) => {
    expect(() => parseConfig({ ...keys, [name]: value }, { cwd: dir() })).toThrow(ConfigError)
    try {
      parseConfig({ ...keys, [name]: value }, { cwd: dir() })
    } catch (error) {
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).not.toContain('\n')
    }
  })

  it('reads CORS origins as a JSON array or a comma-separated list', () => {
    const cwd = dir()
    expect(parseConfig({ ...keys, CORS_ALLOW_ORIGINS: '["http://a.example:8000/"]' }, { cwd }).corsOrigins).toEqual(['http://a.example:8000'])
    expect(parseConfig({ ...keys, CORS_ALLOW_ORIGINS: 'http://a.example, http://b.example' }, { cwd }).corsOrigins)
      .toEqual(['http://a.example', 'http://b.example'])
  })

  it('accepts several encryption keys, first one first', () => {
    const [a, b] = [Fernet.generateKey(), Fernet.generateKey()]
    expect(parseConfig({ ...keys, ENCRYPTION_KEY: `${a}, ${b}` }, { cwd: dir() }).encryptionKeys).toEqual([a, b])
  })

  it('warns about a SECRET_KEY shorter than 32 bytes', () => {
    const config = parseConfig({ ...keys, SECRET_KEY: 'short' }, { cwd: dir() })
    expect(config.warnings.join(' ')).toMatch(/SECRET_KEY is shorter than 32 bytes/)
  })

  it('generates the keys on first start, keeps them with mode 0600, and reuses them', () => {
    const cwd = dir()
    const first = parseConfig({}, { cwd, generateKeys: true })
    for (const file of ['.secret_key', '.fernet_key']) {
      expect(statSync(join(cwd, file)).mode & 0o777).toBe(0o600)
    }
    expect(Buffer.byteLength(first.secretKey)).toBeGreaterThanOrEqual(32)
    expect(Fernet.isValidKey(first.encryptionKeys[0]!)).toBe(true)
    const second = parseConfig({}, { cwd, generateKeys: true })
    expect(second.secretKey).toBe(first.secretKey)
    expect(second.encryptionKeys).toEqual(first.encryptionKeys)
  })

  it('treats empty values as unset, as .env.example leaves them', () => {
    const cwd = dir()
    writeFileSync(join(cwd, '.fernet_key'), keys.ENCRYPTION_KEY)
    const config = parseConfig({ SECRET_KEY: '', ENCRYPTION_KEY: ' ', PORT: '' }, { cwd, generateKeys: true })
    expect(config.port).toBe(8000)
    expect(config.encryptionKeys).toEqual([keys.ENCRYPTION_KEY])
    expect(readFileSync(join(cwd, '.secret_key'), 'utf8').trim()).toBe(config.secretKey)
  })

  it('refuses a SECRET_KEY shorter than 32 bytes when NODE_ENV=production', () => {
    expect(() => parseConfig({ ...keys, SECRET_KEY: 'short', NODE_ENV: 'production' }, { cwd: dir() }))
      .toThrow(/^Invalid setting SECRET_KEY: expected at least 32 bytes when NODE_ENV=production/)
    expect(parseConfig({ ...keys, NODE_ENV: 'production' }, { cwd: dir() }).warnings).toEqual([])
  })

  it('refuses "*" in CORS_ALLOW_ORIGINS, saying why', () => {
    for (const value of ['["*"]', '*', 'http://a.example,*']) {
      expect(() => parseConfig({ ...keys, CORS_ALLOW_ORIGINS: value }, { cwd: dir() }))
        .toThrow(/^Invalid setting CORS_ALLOW_ORIGINS: .*not "\*": with "\*" any website could open WebSockets/)
    }
  })

  it('says which key files it read and which it made', () => {
    const cwd = dir()
    writeFileSync(join(cwd, '.secret_key'), keys.SECRET_KEY)
    const config = parseConfig({}, { cwd, generateKeys: true })
    expect(config.keyFiles).toEqual([
      { setting: 'SECRET_KEY', path: join(cwd, '.secret_key'), generated: false },
      { setting: 'ENCRYPTION_KEY', path: join(cwd, '.fernet_key'), generated: true }
    ])
    expect(parseConfig(keys, { cwd }).keyFiles).toEqual([])
  })

  it('writes no key file when another setting is bad', () => {
    const cwd = dir()
    expect(() => parseConfig({ CORS_ALLOW_ORIGINS: '["unterminated' }, { cwd, generateKeys: true })).toThrow(/CORS_ALLOW_ORIGINS/)
    expect(() => parseConfig({ DATABASE_URL: 'mysql://db/chat' }, { cwd, generateKeys: true })).toThrow(/DATABASE_URL/)
    expect(existsSync(join(cwd, '.secret_key'))).toBe(false)
    expect(existsSync(join(cwd, '.fernet_key'))).toBe(false)
  })

  it('does not write key files unless asked to', () => {
    const cwd = dir()
    expect(() => parseConfig({}, { cwd })).toThrow(ConfigError)
    expect(existsSync(join(cwd, '.secret_key'))).toBe(false)
  })
})

describe('databasePath', () => {
  it.each([
    ['sqlite:///./chat.db', '/srv/app/chat.db'],
    ['sqlite:///data/chat.db', '/srv/app/data/chat.db'],
    ['sqlite:////var/lib/chat.db', '/var/lib/chat.db'],
    ['chat.db', '/srv/app/chat.db'],
    ['/abs/chat.db', '/abs/chat.db'],
    ['sqlite+aiosqlite:///./chat.db', '/srv/app/chat.db'],
    ['sqlite+pysqlite:////var/lib/chat.db', '/var/lib/chat.db'],
    [':memory:', ':memory:']
  ])('%s → %s', (url, path) => {
    expect(databasePath(url, '/srv/app')).toBe(path)
  })

  it.each([
    ['mysql://user:pw@db/chat', /this build does not support mysql:\/\/ databases/],
    ['mysql+pymysql://db/chat', /does not support mysql\+pymysql:\/\//],
    ['sqlite://chat.db', /three slashes/]
  ])('refuses %s in one line instead of making a folder of it', (url, message) => {
    const cwd = dir()
    expect(() => parseConfig({ ...keys, DATABASE_URL: url }, { cwd })).toThrow(message)
    expect(() => parseConfig({ ...keys, DATABASE_URL: url }, { cwd })).toThrow(/^Invalid setting DATABASE_URL: expected (postgres|sqlite):\/\//)
  })
})
