// DATABASE_URL picks the store by its scheme (src/storage/url.ts), and the config carries the choice.
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'
import { Fernet } from '../../src/crypto/fernet.js'
import { databaseTarget } from '../../src/storage/url.js'

describe('DATABASE_URL', () => {
  it.each([
    ['postgres://chat:pw@db:5432/chat', { kind: 'postgres', url: 'postgres://chat:pw@db:5432/chat' }],
    ['postgresql://db/chat?sslmode=require', { kind: 'postgres', url: 'postgresql://db/chat?sslmode=require' }],
    ['sqlite:///./chat.db', { kind: 'sqlite', path: '/srv/app/chat.db' }],
    ['sqlite:////var/lib/chat.db', { kind: 'sqlite', path: '/var/lib/chat.db' }],
    ['chat.db', { kind: 'sqlite', path: '/srv/app/chat.db' }],
    [':memory:', { kind: 'sqlite', path: ':memory:' }]
  ])('%s → %o', (url, target) => {
    expect(databaseTarget(url, '/srv/app')).toEqual(target)
  })

  it.each(['mysql://db/chat', 'postgres://', 'sqlite:///'])('refuses %s', (url) => {
    expect(() => databaseTarget(url, '/srv/app')).toThrow()
  })

  it('reaches the config: PostgreSQL has no SQLite path; an unknown scheme is a ConfigError naming the setting', () => {
    const env = { SECRET_KEY: 'x'.repeat(40), ENCRYPTION_KEY: Fernet.generateKey() }
    const config = parseConfig({ ...env, DATABASE_URL: 'postgres://chat@db/chat' }, { cwd: '/srv/app' })
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://chat@db/chat' })
    expect(config.databasePath).toBe('')
    expect(() => parseConfig({ ...env, DATABASE_URL: 'mysql://db/chat' }, { cwd: '/srv/app' })).toThrow(ConfigError)
  })
})
