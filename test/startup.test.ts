// Start-up as the operator sees it, on the real process: plain lines that say where the data is
// and what was generated; settings and storage that cannot work stop the start with one line
// (no stack trace) that names the path or setting and says what to do.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runServerToExit, startServer } from './process-helper.js'
import { tempDir } from './helper.js'

/** One line on stderr and nothing on stdout: what a failed start must look like. */
function expectOneLine (result: { code: number | null, stdout: string, stderr: string }, ...patterns: Array<string | RegExp>): void {
  expect(result.code, result.stderr).toBe(1)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trim().split('\n')
  expect(lines, result.stderr).toHaveLength(1)
  expect(result.stderr).not.toMatch(/^\s+at /m)
  for (const pattern of patterns) {
    if (typeof pattern === 'string') expect(lines[0]).toContain(pattern)
    else expect(lines[0]).toMatch(pattern)
  }
}

const exit = async (cwd: string, env: Record<string, string>) => runServerToExit(cwd, { PORT: String(await freePort()), ...env })

describe('start-up lines', () => {
  it('name the working directory, the absolute data and key paths, and the keys it generated', async () => {
    const cwd = tempDir()
    const first = await startServer(cwd, { MEDIA_DIR: 'uploads' })
    await first.stop()
    const out = first.stdout()
    expect(out).toContain(`working directory ${cwd}`)
    expect(out).toMatch(new RegExp(`database +${join(cwd, 'chat.db')}\n`))
    expect(out).toMatch(new RegExp(`media folder +${join(cwd, 'uploads')}\n`))
    expect(out).toMatch(new RegExp(`SECRET_KEY +${join(cwd, '.secret_key')}\n`))
    expect(out).toMatch(new RegExp(`ENCRYPTION_KEY +${join(cwd, '.fernet_key')}\n`))
    expect(out).toContain('generated .fernet_key — back it up with the database\n')
    expect(out).toContain('generated .secret_key — back it up with the database\n')
    expect(out).toContain(`listening on http://127.0.0.1:${first.port}\n`)
    for (const line of out.split('\n').slice(0, 7)) expect(line.startsWith('{')).toBe(false) // plain, not log JSON
    expect(first.stderr()).toBe('')

    const second = await startServer(cwd, { MEDIA_DIR: 'uploads' })
    await second.stop()
    expect(second.stdout()).not.toContain('generated')
    expect(second.stdout()).toMatch(new RegExp(`database +${join(cwd, 'chat.db')}\n`))
  })

  it('say when the keys come from the environment', async () => {
    const cwd = tempDir()
    const server = await startServer(cwd, { SECRET_KEY: 'k'.repeat(40), ENCRYPTION_KEY: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=' })
    await server.stop()
    expect(server.stdout()).toMatch(/SECRET_KEY +from the environment\n/)
    expect(server.stdout()).toMatch(/ENCRYPTION_KEY +from the environment\n/)
    expect(existsSync(join(cwd, '.fernet_key'))).toBe(false)
  })

  it('warn loudly about a short SECRET_KEY on stderr, as a plain line', async () => {
    const server = await startServer(tempDir(), { SECRET_KEY: 'short' })
    await server.stop()
    expect(server.stderr()).toMatch(/^WARNING: SECRET_KEY is shorter than 32 bytes/)
  })
})

describe('settings that cannot work stop the start in one line', () => {
  it('a short SECRET_KEY with NODE_ENV=production', async () => {
    expectOneLine(await exit(tempDir(), { SECRET_KEY: 'short', NODE_ENV: 'production' }), 'Invalid setting SECRET_KEY', 'NODE_ENV=production')
  })

  it('a DATABASE_URL this build cannot use, leaving no folder named after it', async () => {
    const cwd = tempDir()
    expectOneLine(await exit(cwd, { DATABASE_URL: 'mysql://chat:pw@db/chat' }), 'Invalid setting DATABASE_URL', 'does not support mysql://')
    expect(readdirSync(cwd)).toEqual([])
  })

  it('accepts a Python app\'s sqlite+aiosqlite:/// URL as SQLite', async () => {
    const cwd = tempDir()
    const server = await startServer(cwd, { DATABASE_URL: 'sqlite+aiosqlite:///./chat.db' })
    await server.stop()
    expect(existsSync(join(cwd, 'chat.db'))).toBe(true)
    expect(readdirSync(cwd).filter((name) => name.includes(':'))).toEqual([])
  })

  it('CORS_ALLOW_ORIGINS=["*"], saying why', async () => {
    expectOneLine(await exit(tempDir(), { CORS_ALLOW_ORIGINS: '["*"]' }), 'Invalid setting CORS_ALLOW_ORIGINS', 'any website could open WebSockets')
  })
})

describe('storage that cannot work stops the start in one line naming the path', () => {
  it('the database path is a folder', async () => {
    const cwd = tempDir()
    mkdirSync(join(cwd, 'chat.db'))
    expectOneLine(await exit(cwd, {}), `The database ${join(cwd, 'chat.db')} is a folder, not a file`, 'Set DATABASE_URL')
  })

  it('the database folder is a file', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'data'), '')
    expectOneLine(await exit(cwd, { DATABASE_URL: 'data/chat.db' }), `${join(cwd, 'data')} is a file, not a folder`, join(cwd, 'data/chat.db'))
  })

  it('the database is not a database', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'chat.db'), 'hello, this is text')
    expectOneLine(await exit(cwd, {}), `${join(cwd, 'chat.db')} is not a Secure Chat database`)
  })

  it('MEDIA_DIR is a file', async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, 'media'), '')
    expectOneLine(await exit(cwd, {}), `The media folder ${join(cwd, 'media')} is a file, not a folder`, 'MEDIA_DIR')
  })

  // Tests run as root, whom permissions do not stop: a read-only mount does. CI runs as root on
  // this kind of machine, so `mount` must work here; if it does not, these fail rather than skip.
  describe('on a read-only mount', () => {
    const mnt = tempDir('secure-chat-ro-')
    let keys: Record<string, string>
    beforeAll(async () => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt])
      mkdirSync(join(mnt, 'data'))
      mkdirSync(join(mnt, 'media'))
      const server = await startServer(join(mnt, 'data'))
      await server.stop()
      keys = { SECRET_KEY: 'k'.repeat(40), ENCRYPTION_KEY: (await import('node:fs')).readFileSync(join(mnt, 'data', '.fernet_key'), 'utf8').trim() }
      execFileSync('mount', ['-o', 'remount,ro', mnt])
    }, 30_000)
    afterAll(() => { execFileSync('umount', [mnt]) })

    it('an existing database', async () => {
      const db = join(mnt, 'data', 'chat.db')
      expectOneLine(await exit(tempDir(), { ...keys, DATABASE_URL: db }), `Cannot write the database ${db}`, 'read-only file system', 'DATABASE_URL')
    })

    it('a new database', async () => {
      const db = join(mnt, 'new.db')
      expectOneLine(await exit(tempDir(), { ...keys, DATABASE_URL: db }), `Cannot write the database ${db}`, 'read-only file system')
    })

    it('the media folder', async () => {
      const media = join(mnt, 'media')
      expectOneLine(await exit(tempDir(), { ...keys, MEDIA_DIR: media }), `Cannot write the media folder ${media}`, 'read-only file system', 'MEDIA_DIR')
    })

    it('a working directory where the key files cannot be written', async () => {
      expectOneLine(await exit(mnt, {}), `Cannot write ${join(mnt, '.secret_key')}: the file system is read-only`)
    })
  })
})
