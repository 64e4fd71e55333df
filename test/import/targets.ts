// This server's database for the import tests, on either store: a SQLite file in the test's folder,
// or a fresh PostgreSQL schema of its own (test/pg-helper.ts), with what the tests look at in it.
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { Config } from '../../src/config.js'
import { makeTestConfig } from '../helper.js'
import { snapshot } from '../hardening/support.js'
import { createTestSchema } from '../pg-helper.js'

export const STORES = ['sqlite', 'postgres'] as const
export type StoreKind = typeof STORES[number]

export interface Target {
  config: Config
  /** The environment `npm run import` (or another tool) gets to write here. */
  env: Record<string, string>
  /** The tables there are (none before anything ran). */
  tables: () => Promise<string[]>
  /** Row count and a hash of the contents of every table. */
  snapshot: () => Promise<Record<string, string>>
  drop: () => Promise<void>
}

export async function openTarget (kind: StoreKind, dir: string, env: Record<string, string> = {}): Promise<Target> {
  if (kind === 'sqlite') {
    const config = makeTestConfig(env, dir)
    return {
      config,
      env: toolEnv(config, config.databasePath),
      async tables () {
        if (!existsSync(config.databasePath)) return []
        const db = new Database(config.databasePath, { readonly: true })
        try {
          return db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all()
        } finally {
          db.close()
        }
      },
      snapshot: async () => snapshot(config.databasePath),
      drop: async () => {}
    }
  }
  const schema = await createTestSchema()
  const config = makeTestConfig({ ...env, DATABASE_URL: schema.url }, dir)
  const tables = async (): Promise<string[]> =>
    (await schema.sql<Array<{ name: string }>>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${schema.name} ORDER BY 1`).map((r) => r.name)
  return {
    config,
    env: toolEnv(config, schema.url),
    tables,
    async snapshot () {
      const result: Record<string, string> = {}
      for (const table of await tables()) {
        const rows = await schema.sql.unsafe(`SELECT * FROM "${table}" ORDER BY 1`).values()
        result[table] = `${rows.length}:${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)}`
      }
      return result
    },
    drop: schema.drop
  }
}

const toolEnv = (config: Config, databaseUrl: string): Record<string, string> =>
  ({ ENCRYPTION_KEY: config.encryptionKeys.join(','), DATABASE_URL: databaseUrl, MEDIA_DIR: config.mediaDir, SECRET_KEY: 'not used by the tools' })
