// Key rotation on PostgreSQL, on the real processes: old key → server on "new,old" → rotate-keys,
// one transaction (killed while blocked midway: nothing changed; an unreadable row: named, nothing
// changed; then a full run while the server keeps taking messages) → server on the new key alone,
// history and files intact. Also: `npm run backup` on PostgreSQL refuses in one line.
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { SearchKeys } from '../../src/search/tokens.js'
import { tempDir } from '../helper.js'
import { createTestSchema, type TestSchema } from '../pg-helper.js'
import { startServer, type ServerProcess } from '../process-helper.js'
import { multipart, runTool, TINY_PDF } from './support.js'

const SECRET = 'rotation-test-secret-that-is-long-enough-42'

async function call (base: string, path: string, token?: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return res.json()
}

const history = async (base: string, token: string): Promise<any[]> => (await call(base, '/api/rooms/1/messages?limit=100', token)).messages

/** Every encrypted value in the schema, read directly. */
async function tokens (schema: TestSchema): Promise<{ bodies: Map<number, string>, others: string[] }> {
  const rows = await schema.sql<Array<{ id: number, body: string, attachment: string | null }>>`SELECT id::int AS id, body, attachment FROM messages ORDER BY id`
  const media = await schema.sql<Array<{ original_name: string }>>`SELECT original_name FROM media`
  const [check] = await schema.sql<Array<{ value: string }>>`SELECT value FROM meta WHERE key = 'key_check'`
  return {
    bodies: new Map(rows.map((r) => [r.id, r.body])),
    others: [...media.map((m) => m.original_name), ...rows.flatMap((r) => (r.attachment === null ? [] : [r.attachment])), check!.value]
  }
}

describe('npm run rotate-keys on PostgreSQL', () => {
  it('re-encrypts everything in one transaction: all or nothing, beside a running server', async () => {
    const cwd = tempDir()
    const schema = await createTestSchema()
    const oldKey = Fernet.generateKey()
    const newKey = Fernet.generateKey()
    const env = (keys: string) => ({ SECRET_KEY: SECRET, ENCRYPTION_KEY: keys, MESSAGES_PER_SECOND: '0', DATABASE_URL: schema.url, MEDIA_DIR: join(cwd, 'media') })
    let server: ServerProcess = await startServer(cwd, env(oldKey))
    let release = (): void => {}
    try {
      const { token } = await call(server.url, '/api/auth/register', undefined, { username: 'rotator', password: 'password123' })
      const sent: string[] = []
      for (let i = 0; i < 40; i++) {
        sent.push(`secret message ${i}`)
        await call(server.url, '/api/rooms/1/messages', token, { body: `secret message ${i}` })
      }
      const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'plans.pdf' }, { name: 'body', value: 'with a file' }])
      const up = await fetch(`${server.url}/api/rooms/1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...form.headers }, body: form.payload })
      expect(up.status).toBe(201)
      sent.push('with a file')
      const before = await tokens(schema)
      const oldTimestamp = new Fernet(oldKey).timestamp(before.bodies.get(1)!)

      expect(await server.stop()).toBe(0)
      server = await startServer(cwd, env(`${newKey},${oldKey}`))

      // Killed while it waits on a row lock midway: it had rewritten 15 rows, none of which stands.
      const locker = postgres(schema.url, { max: 1, onnotice: () => {} })
      const released = new Promise<void>((resolve) => { release = resolve })
      const holding = locker.begin(async (tx) => {
        await tx`SELECT 1 FROM messages WHERE id = 18 FOR UPDATE`
        await released
      })
      const first = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`), ['--batch-size', '5'])
      await first.waitForOutput(/messages: 15\/41 checked, 15 re-encrypted/)
      first.child.kill('SIGKILL')
      expect(await first.exited).toBe('SIGKILL')
      release()
      await holding
      await locker.end({ timeout: 1 })
      expect(await tokens(schema)).toEqual(before)

      // A row no key reads: named, and nothing changed.
      const stray = new Fernet(Fernet.generateKey()).encrypt('written with a lost key')
      await schema.sql`UPDATE messages SET body = ${stray} WHERE id = 7`
      const tampered = await tokens(schema)
      const bad = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`), ['--batch-size', '5'])
      expect(await bad.exited).toBe(1)
      expect(bad.stderr()).toBe('message 7 cannot be read with any key in ENCRYPTION_KEY: add the key it was written with. Nothing was changed.\n')
      expect(await tokens(schema)).toEqual(tampered)
      await schema.sql`UPDATE messages SET body = ${before.bodies.get(7)!} WHERE id = 7`

      // The whole run, while the server takes a message.
      const second = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`), ['--batch-size', '7'])
      await call(server.url, '/api/rooms/1/messages', token, { body: 'sent during the rotation' })
      sent.push('sent during the rotation')
      expect(await second.exited, second.stderr()).toBe(0)
      expect(second.stdout()).toMatch(/^Done: 41 messages and 1 upload names re-encrypted; every row reads with the first key alone\. You can now remove/m)
      const newOnly = new FernetRing([newKey])
      const after = await tokens(schema)
      for (const t of [...after.bodies.values(), ...after.others]) expect(newOnly.isCurrent(t)).toBe(true)
      expect(after.others).toHaveLength(3) // the upload's name, the message's attachment, the key check
      expect(new Fernet(newKey).timestamp(after.bodies.get(1)!)).toBe(oldTimestamp) // when it was written, kept
      expect((await history(server.url, token)).map((m) => m.body)).toEqual(sent)

      // The old key goes: the server starts on the new key alone, history and the file's name intact.
      expect(await server.stop()).toBe(0)
      server = await startServer(cwd, env(newKey))
      const messages = await history(server.url, token)
      expect(messages.map((m) => m.body)).toEqual(sent)
      const file = await fetch(server.url + messages.find((m) => m.attachment !== null).attachment.url, { headers: { authorization: `Bearer ${token}` } })
      expect(file.headers.get('content-disposition')).toMatch(/plans\.pdf/)

      // A rerun with one key changes nothing; the old key alone is refused in one line.
      const third = runTool('rotate-keys', cwd, env(newKey))
      expect(await third.exited).toBe(0)
      expect(third.stdout()).toMatch(/Done: 0 messages and 0 upload names re-encrypted/)
      const wrong = runTool('rotate-keys', cwd, env(oldKey))
      expect(await wrong.exited).toBe(1)
      expect(wrong.stderr().trim().split('\n')).toHaveLength(1)
      expect(wrong.stderr()).toMatch(/ENCRYPTION_KEY cannot read this database/)
    } finally {
      release() // a failed step must not leave the row locked: the schema could not be dropped
      await server.stop('SIGKILL')
      await schema.drop()
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 120_000)

  it('re-encrypts earlier versions of edited messages and passes over tombstones', async () => {
    const cwd = tempDir()
    const schema = await createTestSchema()
    const oldKey = Fernet.generateKey()
    const newKey = Fernet.generateKey()
    const env = (keys: string) => ({ SECRET_KEY: SECRET, ENCRYPTION_KEY: keys, MESSAGES_PER_SECOND: '0', DATABASE_URL: schema.url, MEDIA_DIR: join(cwd, 'media') })
    let server: ServerProcess = await startServer(cwd, env(oldKey))
    try {
      const { token } = await call(server.url, '/api/auth/register', undefined, { username: 'editor', password: 'password123' })
      const change = async (method: string, path: string, body?: unknown): Promise<number> => (await fetch(server.url + path, {
        method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body)
      })).status
      const kept = (await call(server.url, '/api/rooms/1/messages', token, { body: 'first draft' })).message
      const gone = (await call(server.url, '/api/rooms/1/messages', token, { body: 'soon deleted' })).message
      expect(await change('PATCH', `/api/rooms/1/messages/${kept.id}`, { body: 'final text' })).toBe(200)
      expect(await change('DELETE', `/api/rooms/1/messages/${gone.id}`)).toBe(204)
      expect(await server.stop()).toBe(0)

      const run = runTool('rotate-keys', cwd, env(`${newKey},${oldKey}`))
      expect(await run.exited, run.stderr()).toBe(0)
      // The search index is made again under the new key, by the tool (not left to the next start).
      expect(run.stdout()).toMatch(/search index: rebuilt under the first key, 1 messages indexed/)
      const [fingerprint] = await schema.sql<Array<{ value: string }>>`SELECT value FROM meta WHERE key = 'search_key'`
      expect(fingerprint!.value).toBe(new SearchKeys(new FernetRing([newKey])).fingerprint())
      const edits = await schema.sql<Array<{ body: string }>>`SELECT body FROM message_edits`
      expect(edits).toHaveLength(1)
      expect(new FernetRing([newKey]).decryptText(edits[0]!.body)).toBe('first draft')

      server = await startServer(cwd, env(newKey))
      expect((await call(server.url, `/api/rooms/1/messages/${kept.id}/edits`, token)).edits.map((e: { body: string }) => e.body)).toEqual(['first draft'])
      const messages = await history(server.url, token)
      expect(messages.map((m) => [m.body, m.deletedAt === null])).toEqual([['final text', true], ['', false]])
    } finally {
      await server.stop('SIGKILL')
      await schema.drop()
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 120_000)

  it('says in one line when DATABASE_URL holds no Secure Chat database', async () => {
    const cwd = tempDir()
    const schema = await createTestSchema()
    try {
      const none = runTool('rotate-keys', cwd, { ENCRYPTION_KEY: Fernet.generateKey(), DATABASE_URL: schema.url })
      expect(await none.exited).toBe(1)
      expect(none.stderr()).toBe('No Secure Chat database at DATABASE_URL (it has no schema_migrations table): start the server once first.\n')
    } finally {
      await schema.drop()
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})

describe('npm run backup on PostgreSQL', () => {
  it('refuses in one line, pointing to pg_dump and what to keep beside it, and writes nothing', async () => {
    const cwd = tempDir()
    try {
      const run = runTool('backup', cwd, { ENCRYPTION_KEY: Fernet.generateKey(), DATABASE_URL: 'postgres://chat@127.0.0.1:5432/chat' }, ['backups/chat.db'])
      expect(await run.exited).toBe(1)
      const lines = run.stderr().trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^npm run backup copies SQLite files; on PostgreSQL use pg_dump .*keep the keys and MEDIA_DIR with it\.$/)
      expect(existsSync(join(cwd, 'backups'))).toBe(false)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})
