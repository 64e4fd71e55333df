// REDIS_URL: one row of the settings table, and the rule that comes with it (no per-node key files).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'
import { Fernet } from '../../src/crypto/fernet.js'

const dir = () => mkdtempSync(join(tmpdir(), 'secure-chat-bus-config-'))
const keys = { SECRET_KEY: 'x'.repeat(40), ENCRYPTION_KEY: Fernet.generateKey() }

describe('REDIS_URL', () => {
  it('is unset by default: one node', () => {
    expect(parseConfig(keys, { cwd: dir() }).redisUrl).toBeNull()
    expect(parseConfig({ ...keys, REDIS_URL: ' ' }, { cwd: dir() }).redisUrl).toBeNull()
  })

  it('takes redis:// and rediss:// URLs', () => {
    expect(parseConfig({ ...keys, REDIS_URL: 'redis://127.0.0.1:6379' }, { cwd: dir() }).redisUrl).toBe('redis://127.0.0.1:6379')
    expect(parseConfig({ ...keys, REDIS_URL: 'rediss://user:pw@cache.example:6380/2' }, { cwd: dir() }).redisUrl).toBe('rediss://user:pw@cache.example:6380/2')
  })

  it.each(['127.0.0.1:6379', 'http://127.0.0.1:6379', 'not a url'])('refuses %s in one line', (value) => {
    expect(() => parseConfig({ ...keys, REDIS_URL: value }, { cwd: dir() })).toThrow(/^Invalid setting REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/)
  })

  it.each(['SECRET_KEY', 'ENCRYPTION_KEY'] as const)('refuses to start without %s set explicitly, and makes no key file', (missing) => {
    const cwd = dir()
    const env: Record<string, string> = { ...keys, REDIS_URL: 'redis://127.0.0.1:6379' }
    delete env[missing]
    expect(() => parseConfig(env, { cwd, generateKeys: true })).toThrow(ConfigError)
    expect(() => parseConfig(env, { cwd, generateKeys: true })).toThrow(new RegExp(`^Invalid setting ${missing}: expected a value set in the environment \\(or \\.env\\) when REDIS_URL is set`))
    expect(existsSync(join(cwd, '.secret_key'))).toBe(false)
    expect(existsSync(join(cwd, '.fernet_key'))).toBe(false)
  })

  it('refuses a key file that exists, too: it is one node\'s own', () => {
    const cwd = dir()
    writeFileSync(join(cwd, '.fernet_key'), keys.ENCRYPTION_KEY)
    expect(() => parseConfig({ SECRET_KEY: keys.SECRET_KEY, REDIS_URL: 'redis://127.0.0.1:6379' }, { cwd }))
      .toThrow(/^Invalid setting ENCRYPTION_KEY: .*\.fernet_key is this node's own/)
    // Without REDIS_URL the same file is fine.
    expect(parseConfig({ SECRET_KEY: keys.SECRET_KEY }, { cwd }).encryptionKeys).toEqual([keys.ENCRYPTION_KEY])
  })
})
