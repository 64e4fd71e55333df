// Key rotation, the whole dance on the real processes: old key → server on "new,old" → rotate-keys
// (killed midway, then run again, while the server keeps running and taking messages) → server
// on the new key alone, history intact. Also: a wrong key is refused in one line.
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { tempDir } from '../helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'
import { multipart, runTool, TINY_PDF } from './support.js'

const SECRET = 'rotation-test-secret-that-is-long-enough-42'

async function post (base: string, path: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body)
  })
  return res.json()
}

async function bodies (base: string, token: string): Promise<string[]> {
  const res = await fetch(`${base}/api/rooms/1/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { messages: Array<{ body: string }> }).messages.map((m) => m.body)
}

/** Every encrypted value in the file, read directly. */
function tokens (cwd: string): { bodies: Map<number, string>, media: string[], keyCheck: string } {
  const db = new Database(join(cwd, 'chat.db'), { readonly: true })
  try {
    const rows = db.prepare('SELECT id, body, attachment FROM messages').all() as Array<{ id: number, body: string, attachment: string | null }>
    const map = new Map(rows.map((r) => [r.id, r.body]))
    const media = [...(db.prepare('SELECT original_name FROM media').pluck().all() as string[]), ...rows.flatMap((r) => (r.attachment === null ? [] : [r.attachment]))]
    return { bodies: map, media, keyCheck: db.prepare("SELECT value FROM meta WHERE key = 'key_check'").pluck().get() as string }
  } finally {
    db.close()
  }
}

describe('npm run rotate-keys', () => {
  it('re-encrypts everything with the new key, survives a SIGKILL midway, and the old key can go', async () => {
    const cwd = tempDir()
    const oldKey = Fernet.generateKey()
    const newKey = Fernet.generateKey()
    const env = (keys: string) => ({ SECRET_KEY: SECRET, ENCRYPTION_KEY: keys, MESSAGES_PER_SECOND: '0' })
    let server: ServerProcess = await startServer(cwd, env(oldKey))
    try {
      const { token } = await post(server.url, '/api/auth/register', { username: 'rotator', password: 'password123' })
      const sent: string[] = []
      for (let i = 0; i < 60; i++) {
        sent.push(`secret message ${i}`)
        await post(server.url, '/api/rooms/1/messages', { body: `secret message ${i}` }, token)
      }
      const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'plans.pdf' }, { name: 'body', value: 'with a file' }])
      const up = await fetch(`${server.url}/api/rooms/1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...form.headers }, body: form.payload })
      expect(up.status).toBe(201)
      sent.push('with a file')
      const before = tokens(cwd)
      const oldTimestamp = new Fernet(oldKey).timestamp(before.bodies.get(1)!)

      // 1. The new key first, the old one after it; the server keeps running from here on.
      expect(await server.stop()).toBe(0)
      server = await startServer(cwd, env(`${newKey},${oldKey}`))
      expect(await bodies(server.url, token)).toEqual(sent)

      // 2. rotate-keys in tiny, slow batches, killed once it has made progress.
      const first = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`), ['--batch-size', '5', '--pause-ms', '100'])
      await first.waitForOutput(/messages: 15\/\d+ checked/)
      first.child.kill('SIGKILL')
      expect(await first.exited).toBe('SIGKILL')
      const newOnly = new FernetRing([newKey])
      const partial = [...tokens(cwd).bodies.values()]
      const done = partial.filter((t) => newOnly.isCurrent(t)).length
      expect(done).toBeGreaterThanOrEqual(15)
      expect(done).toBeLessThan(partial.length) // really interrupted midway
      // The server still reads everything, and takes new messages (under the new key) meanwhile.
      await post(server.url, '/api/rooms/1/messages', { body: 'sent during the rotation' }, token)
      sent.push('sent during the rotation')
      expect(await bodies(server.url, token)).toEqual(sent)

      // 3. Run it again: it finishes and verifies.
      const second = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`), ['--batch-size', '7'])
      expect(await second.exited, second.stderr()).toBe(0)
      expect(second.stdout()).toMatch(/^Done: .*every row reads with the first key alone/m)
      const after = tokens(cwd)
      for (const t of [...after.bodies.values(), ...after.media, after.keyCheck]) expect(newOnly.isCurrent(t)).toBe(true)
      expect(after.media.length).toBe(2) // the upload's name and the message's attachment
      expect(new Fernet(newKey).timestamp(after.bodies.get(1)!)).toBe(oldTimestamp) // when it was written, kept
      expect(await bodies(server.url, token)).toEqual(sent)

      // 4. The old key goes: the server starts on the new key alone, history intact.
      expect(await server.stop()).toBe(0)
      server = await startServer(cwd, env(newKey))
      expect(await bodies(server.url, token)).toEqual(sent)
      const file = await fetch(server.url + ((await (await fetch(`${server.url}/api/rooms/1/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } })).json()) as any).messages.find((m: any) => m.attachment !== null).attachment.url)
      expect(file.headers.get('content-disposition')).toMatch(/plans\.pdf/)

      // A rerun with one key changes nothing and succeeds.
      const third = runTool('rotate-keys', cwd, env(newKey))
      expect(await third.exited).toBe(0)
      expect(third.stdout()).toMatch(/Done: 0 messages and 0 upload names re-encrypted/)

      // 5. The old key alone is now refused, in one line, exit 1, nothing changed.
      const wrong = runTool('rotate-keys', cwd, env(oldKey))
      expect(await wrong.exited).toBe(1)
      expect(wrong.stderr().trim().split('\n')).toHaveLength(1)
      expect(wrong.stderr()).toMatch(/ENCRYPTION_KEY cannot read this database/)
    } finally {
      await server.stop('SIGKILL')
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 90_000)

  it('says in one line when there is no database or the key is malformed', async () => {
    const cwd = tempDir()
    const none = runTool('rotate-keys', cwd, { ENCRYPTION_KEY: Fernet.generateKey() })
    expect(await none.exited).toBe(1)
    expect(none.stderr().trim()).toMatch(/^No database at .*chat\.db: check DATABASE_URL/)
    const bad = runTool('rotate-keys', cwd, { ENCRYPTION_KEY: 'not-a-key' })
    expect(await bad.exited).toBe(1)
    expect(bad.stderr().trim()).toBe('Invalid setting ENCRYPTION_KEY: expected a Fernet key (url-safe base64 of 32 bytes), or several separated by commas')
    rmSync(cwd, { recursive: true, force: true })
  })
})
