// Online backups: `npm run backup -- <file>` while the server runs and takes messages, then a
// restore into a fresh directory and a fresh server that reads the history.
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Fernet } from '../../src/crypto/fernet.js'
import { tempDir } from '../helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'
import { runTool } from './support.js'

async function send (base: string, token: string, body: string): Promise<number> {
  const res = await fetch(`${base}/api/rooms/1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ body }) })
  return res.status
}

describe('npm run backup', () => {
  it('copies the live database consistently; a fresh server on the copy reads the history', async () => {
    const cwd = tempDir()
    const env = { SECRET_KEY: 'backup-test-secret-that-is-long-enough-42', ENCRYPTION_KEY: Fernet.generateKey(), MESSAGES_PER_SECOND: '0' }
    let server: ServerProcess = await startServer(cwd, env)
    let restored: ServerProcess | undefined
    const dirs = [cwd]
    try {
      const reg = await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'keeper', password: 'password123' }) })
      const { token } = await reg.json() as { token: string }
      const before = Array.from({ length: 40 }, (_, i) => `kept ${i}`)
      for (const body of before) expect(await send(server.url, token, body)).toBe(201)

      // Writes keep coming while the backup runs.
      let writing = true
      const writer = (async () => { for (let i = 0; writing; i++) await send(server.url, token, `during ${i}`) })()
      const outDir = tempDir()
      dirs.push(outDir)
      const tool = runTool('backup', cwd, { ...env, INIT_CWD: outDir }, ['nightly.db']) // relative to where the operator is
      const code = await tool.exited
      writing = false
      await writer
      expect(code, tool.stderr()).toBe(0)
      expect(tool.stdout()).toMatch(/Done: .*nightly\.db .*integrity ok, readable with the current key/)
      expect(tool.stdout()).toMatch(/Keep with it: \.fernet_key/)
      const file = join(outDir, 'nightly.db')
      expect(existsSync(`${file}.partial`)).toBe(false)
      const copy = new Database(file, { readonly: true })
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete') // one self-contained file
      copy.close()

      // It never overwrites.
      const again = runTool('backup', cwd, { ...env, INIT_CWD: outDir }, ['nightly.db'])
      expect(await again.exited).toBe(1)
      expect(again.stderr().trim()).toMatch(/exists already/)

      // The README's example, into a folder that does not exist yet: the folder is made.
      const dated = runTool('backup', cwd, { ...env, INIT_CWD: outDir }, ['backups/chat-2026-11-30.db'])
      expect(await dated.exited, dated.stderr()).toBe(0)
      expect(existsSync(join(outDir, 'backups', 'chat-2026-11-30.db'))).toBe(true)

      // Restore: a fresh directory with the copy as chat.db and the same keys.
      const fresh = tempDir()
      dirs.push(fresh)
      mkdirSync(join(fresh, 'media'))
      copyFileSync(file, join(fresh, 'chat.db'))
      restored = await startServer(fresh, env)
      let bodies: string[] = []
      for (let query = ''; ;) {
        const res = await fetch(`${restored.url}/api/rooms/1/messages?limit=100${query}`, { headers: { authorization: `Bearer ${token}` } })
        expect(res.status).toBe(200)
        const page = (await res.json()) as { messages: Array<{ id: number, body: string }>, hasMore: boolean }
        bodies = [...page.messages.map((m) => m.body), ...bodies]
        if (!page.hasMore) break
        query = `&before=${page.messages[0]!.id}`
      }
      expect(bodies.slice(0, before.length)).toEqual(before)
      // A snapshot: what was sent during the run is there up to some point, with no holes.
      const during = bodies.slice(before.length)
      expect(during).toEqual(during.map((_, i) => `during ${i}`))
    } finally {
      await restored?.stop('SIGKILL')
      await server.stop('SIGKILL')
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
