// The real process, as a newcomer starts it: no .env, keys generated, SIGTERM stops it cleanly.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { freePort, ROOT, runServerToExit, startServer } from './process-helper.js'
import { tempDir } from './helper.js'

/** Whether anything still accepts connections on the port, after waiting up to `ms` for it to stop. */
async function stillListening (port: number, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (!open) return false
  }
  return true
}

/** The process listening on the port (for cleaning up after a failed test), from `ss`. */
function listenerPid (port: number): number | undefined {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
  const pid = /pid=(\d+)/.exec(out)?.[1]
  return pid === undefined ? undefined : Number(pid)
}

describe('the server process', () => {
  beforeAll(() => {
    // What `npm start` runs first.
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' })
  }, 120_000)

  it('`npm start` output runs with no .env: health, key files 0600, clean exit on SIGTERM', async () => {
    const cwd = tempDir()
    const port = await freePort()
    const child = spawn(process.execPath, [join(ROOT, 'dist/server.js')], {
      cwd, env: { PATH: process.env.PATH ?? '', PORT: String(port), BCRYPT_COST: '4' }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let log = ''
    child.stdout.on('data', (c: Buffer) => { log += c.toString() })
    child.stderr.on('data', (c: Buffer) => { log += c.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    let healthy = false
    for (let i = 0; i < 100 && !healthy; i++) {
      try { healthy = (await fetch(`http://127.0.0.1:${port}/api/health`)).ok } catch { await new Promise((r) => setTimeout(r, 100)) }
    }
    expect(healthy, log).toBe(true)
    for (const file of ['.secret_key', '.fernet_key']) expect(statSync(join(cwd, file)).mode & 0o777).toBe(0o600)
    expect(existsSync(join(cwd, 'chat.db'))).toBe(true)
    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(page.status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(await stillListening(port)).toBe(false)
    expect(existsSync(join(cwd, 'chat.db-wal'))).toBe(false) // a clean close checkpoints the WAL
    expect(existsSync(join(cwd, 'chat.db-search'))).toBe(true) // the search index's file, closed as cleanly
    expect(existsSync(join(cwd, 'chat.db-search-wal'))).toBe(false)
  })

  it('`npm start`, as the README says to run it: a SIGTERM to npm alone stops the server, and start does not compile', async () => {
    const cwd = tempDir()
    const port = await freePort()
    // npm runs the script in the project folder; the data goes to the temp dir by the settings.
    const env = {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, PORT: String(port), BCRYPT_COST: '4',
      DATABASE_URL: join(cwd, 'chat.db'), MEDIA_DIR: join(cwd, 'media'),
      SECRET_KEY: 'npm-start-test-secret-that-is-long-enough', ENCRYPTION_KEY: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
    }
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    npm.stdout.on('data', (c: Buffer) => { log += c.toString() })
    npm.stderr.on('data', (c: Buffer) => { log += c.toString() })
    const exited = new Promise<number | null>((resolve) => npm.once('exit', resolve))
    try {
      let healthy = false
      for (let i = 0; i < 200 && !healthy; i++) {
        try { healthy = (await fetch(`http://127.0.0.1:${port}/api/health`)).ok } catch { await new Promise((r) => setTimeout(r, 100)) }
      }
      expect(healthy, log).toBe(true)
      expect(log).not.toMatch(/prestart|tsc -p/)
      npm.kill('SIGTERM') // npm's pid only, as systemd or a container runtime would
      await exited
      expect(await stillListening(port), log).toBe(false)
      expect(log).toContain(`database        ${join(cwd, 'chat.db')}`)
    } finally {
      const orphan = listenerPid(port)
      if (orphan !== undefined) process.kill(orphan, 'SIGKILL')
    }
  }, 60_000)

  it('keeps its generated keys across restarts and reads its history', async () => {
    const cwd = tempDir()
    const first = await startServer(cwd)
    const reg = await fetch(`${first.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: 'password123' }) })
    const { token } = await reg.json() as { token: string }
    await fetch(`${first.url}/api/rooms/1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ body: 'still here' }) })
    expect(await first.stop()).toBe(0)
    const key = readFileSync(join(cwd, '.fernet_key'), 'utf8')
    const second = await startServer(cwd)
    const res = await fetch(`${second.url}/api/rooms/1/messages`, { headers: { authorization: `Bearer ${token}` } })
    expect(((await res.json()) as { messages: Array<{ body: string }> }).messages.map((m) => m.body)).toEqual(['still here'])
    expect(readFileSync(join(cwd, '.fernet_key'), 'utf8')).toBe(key)
    expect(await second.stop('SIGINT')).toBe(0)
  })

  it('refuses to start with the wrong key, in one line, and changes nothing', async () => {
    const cwd = tempDir()
    const first = await startServer(cwd)
    await first.stop()
    const before = readFileSync(join(cwd, 'chat.db'))
    const { code, output } = await runServerToExit(cwd, { ENCRYPTION_KEY: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=', PORT: String(await freePort()) })
    expect(code).toBe(1)
    expect(output.trim().split('\n')).toHaveLength(1)
    expect(output).toMatch(/ENCRYPTION_KEY cannot read this database/)
    expect(readFileSync(join(cwd, 'chat.db')).equals(before)).toBe(true)
  })

  it('names a bad setting in one line', async () => {
    const { code, output } = await runServerToExit(tempDir(), { PORT: 'eighty' })
    expect(code).toBe(1)
    expect(output.trim()).toBe('Invalid setting PORT: expected a whole number from 0 to 65535')
  })

  it('says plainly when the port is in use', async () => {
    const cwd = tempDir()
    const first = await startServer(cwd)
    const { code, stderr } = await runServerToExit(tempDir(), { PORT: String(first.port), HOST: '127.0.0.1' })
    await first.stop()
    expect(code).toBe(1)
    expect(stderr).toMatch(/^Port in use/)
  })
})
