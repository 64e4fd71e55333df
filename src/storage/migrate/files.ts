// Migrations are plain SQL files, one folder per dialect (migrations/sqlite, migrations/pg), named
// NNN-what.sql and applied in order; NNN is the schema version each one leads to. Never edit a
// released migration: add the next one. A file may name a step that SQL cannot compute
// (`-- step: room-name-keys`): it runs in code (steps.ts), in the same transaction, after the file's SQL.
// The files are read at run time from the package's migrations/ folder, so src/ (tsx) and
// dist/ (npm start) find the same ones.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type Dialect = 'sqlite' | 'pg'

export interface MigrationFile {
  version: number
  name: string
  sql: string
  /** A step in code, run after `sql`. */
  step: string | null
}

const FILE = /^(\d{3})-([a-z0-9-]+)\.sql$/
const STEP = /^-- step: ([a-z0-9-]+)\s*$/m

/** The package's migrations/ folder, seen from src/storage/migrate and dist/storage/migrate alike. */
export const migrationsDir = (dialect: Dialect): string => fileURLToPath(new URL(`../../../migrations/${dialect}/`, import.meta.url))

/** The dialect's migrations in order; throws when their numbering has a gap or a repeat. */
export function loadMigrations (dialect: Dialect, dir = migrationsDir(dialect)): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
  return files.map((file, i) => {
    const match = FILE.exec(file)
    if (match === null) throw new Error(`${dir}${file}: a migration is named NNN-what.sql`)
    const version = Number(match[1])
    if (version !== i + 1) throw new Error(`${dir}${file}: expected migration ${i + 1} here (no gaps, no repeats)`)
    const sql = readFileSync(`${dir}${file}`, 'utf8')
    return { version, name: match[2]!, sql, step: STEP.exec(sql)?.[1] ?? null }
  })
}
