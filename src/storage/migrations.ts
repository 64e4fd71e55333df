// SQLite's versioned schema changes: the files in migrations/sqlite (migrate/files.ts), applied in
// order at start inside one transaction; `PRAGMA user_version` records the last one, so a
// database at version 4 runs 005 and on, nothing before. A migration is SQL, or a function where
// its file names a step in code (migrate/steps.ts).
import type { Db } from './database.js'
import { loadMigrations } from './migrate/files.js'
import { sqliteSteps } from './migrate/steps.js'

export type Migration = string | ((db: Db, log: (message: string) => void) => void)

export const migrations: readonly Migration[] = loadMigrations('sqlite').map((file): Migration => {
  if (file.step === null) return file.sql
  const step = sqliteSteps[file.step]
  if (step === undefined) throw new Error(`migrations/sqlite: no step named ${file.step}`)
  return (db, log) => {
    db.exec(file.sql) // its comments, and any SQL that goes before the step
    step(db, log)
  }
})
