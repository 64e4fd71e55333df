// `npm run admin -- grant|revoke <username>` (src/cli/admin.ts) as a real process on a SQLite file
// and on PostgreSQL: the flag changes, an unknown name or a wrong verb is one line and exit 1.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { openStorage, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import { tempDir } from '../helper.js'
import { createTestSchema, type TestSchema } from '../pg-helper.js'
import { ROOT } from '../process-helper.js'

const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)
const admin = async (env: Record<string, string>, ...args: string[]) =>
  run(process.execPath, ['--import', TSX, `${ROOT}src/cli/admin.ts`, ...args], { cwd: tempDir(), env: { PATH: process.env.PATH ?? '', ...env } })

const schemas: TestSchema[] = []
afterAll(async () => { for (const s of schemas) await s.drop() })

async function database (dialect: 'sqlite' | 'postgres', key: string): Promise<{ url: string, open: () => Promise<Store> }> {
  if (dialect === 'sqlite') {
    const url = join(tempDir(), 'chat.db')
    return { url, open: async () => openStorage(url, new FernetRing([key])) }
  }
  const schema = await createTestSchema()
  schemas.push(schema)
  return { url: schema.url, open: async () => openPgStore(schema.url, new FernetRing([key]), { max: 1 }) }
}

describe.each(['sqlite', 'postgres'] as const)('npm run admin on %s', (dialect) => {
  it('grants and revokes by name, whatever its case; refuses unknown names and wrong usage', async () => {
    const key = Fernet.generateKey()
    const db = await database(dialect, key)
    let store = await db.open()
    await store.users.create('first', 'h')
    const bob = (await store.users.create('Bob', 'h'))!
    await store.close()
    const env = { DATABASE_URL: db.url, ENCRYPTION_KEY: key }

    expect((await admin(env, 'grant', 'bob')).stdout).toContain('Bob is now a server administrator.')
    store = await db.open()
    expect((await store.users.findById(bob.id))?.isAdmin).toBe(true)
    await store.close()
    expect((await admin(env, 'revoke', 'BOB')).stdout).toContain('Bob is no longer a server administrator.')
    store = await db.open()
    expect((await store.users.findById(bob.id))?.isAdmin).toBe(false)
    await store.close()

    await expect(admin(env, 'grant', 'nobody')).rejects.toMatchObject({ code: 1, stderr: 'No account is named "nobody".\n' })
    await expect(admin(env, 'promote', 'bob')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('Usage: npm run admin -- grant <username> | revoke <username>') })
    await expect(admin(env, 'grant')).rejects.toMatchObject({ code: 1 })
  }, 120_000) // seven process starts
})
