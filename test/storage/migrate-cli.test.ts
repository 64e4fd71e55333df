// `npm run migrate` (src/cli/migrate.ts) as a real process: PostgreSQL and SQLite, twice (the
// second run finds nothing to do), and three runs at once on one PostgreSQL database (the advisory
// lock lets one migrate; the others wait and find it done).
import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet } from '../../src/crypto/fernet.js'
import { loadMigrations } from '../../src/storage/migrate/files.js'
import { tempDir } from '../helper.js'
import { createTestSchema, type TestSchema } from '../pg-helper.js'
import { ROOT } from '../process-helper.js'

const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)
const migrate = async (env: Record<string, string>) =>
  run(process.execPath, ['--import', TSX, `${ROOT}src/cli/migrate.ts`], { cwd: tempDir(), env: { PATH: process.env.PATH ?? '', ...env } })

const schemas: TestSchema[] = []
afterAll(async () => { for (const s of schemas) await s.drop() })

describe('npm run migrate', () => {
  it('PostgreSQL: applies every migration once, even when three runs start together; a second run finds nothing to do', async () => {
    const schema = await createTestSchema()
    schemas.push(schema)
    const env = { DATABASE_URL: schema.url, ENCRYPTION_KEY: Fernet.generateKey() }
    const outputs = await Promise.all([migrate(env), migrate(env), migrate(env)])
    const pgVersion = loadMigrations('pg').length
    expect(outputs.filter((o) => o.stdout.includes(`now at version ${pgVersion}`))).toHaveLength(1)
    expect(outputs.filter((o) => o.stdout.includes('up to date'))).toHaveLength(2)
    const rows = await schema.sql<Array<{ version: number }>>`SELECT version FROM schema_migrations ORDER BY version`
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: pgVersion }, (_, i) => i + 1))
    expect((await schema.sql`SELECT name FROM rooms`).length).toBe(3)
    expect((await migrate(env)).stdout).toContain('up to date')
    // Another key cannot read it: refused, one line, exit 1.
    await expect(migrate({ ...env, ENCRYPTION_KEY: Fernet.generateKey() })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('ENCRYPTION_KEY cannot read this database') })
  })

  it('SQLite: creates or upgrades the file to the newest version', async () => {
    const path = join(tempDir(), 'chat.db')
    const env = { DATABASE_URL: path, ENCRYPTION_KEY: Fernet.generateKey() }
    const { stdout } = await migrate(env)
    const total = loadMigrations('sqlite').length
    expect(stdout).toContain(`at version ${total} of ${total}`)
    const db = new Database(path, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(total)
    db.close()
    expect((await migrate(env)).stdout).toContain(`at version ${total} of ${total}`)
  })
})
