// `npm run migrate`: brings the database named by DATABASE_URL to this version's schema and exits
// (the server does the same at start). On PostgreSQL the migrations run under an advisory lock, so
// nodes (or this tool) starting together never both migrate. Refuses keys that cannot read the
// database, like the server, and changes nothing then.
import { FernetRing } from '../crypto/fernet.js'
import { openDatabase } from '../storage/database.js'
import { migrations } from '../storage/migrations.js'
import { connectPg } from '../storage/pg/connect.js'
import { migratePg } from '../storage/pg/migrate.js'
import { fail, loadSettings } from './common.js'

async function main (): Promise<void> {
  const config = loadSettings()
  const ring = new FernetRing(config.encryptionKeys)
  const log = (message: string): void => console.log(message)
  if (config.database.kind === 'postgres') {
    const sql = connectPg(config.database.url, { max: 1 })
    try {
      const applied = await migratePg(sql, ring, log)
      console.log(applied.length === 0 ? 'PostgreSQL schema: up to date.' : `PostgreSQL schema: now at version ${applied.at(-1)!}.`)
    } finally {
      await sql.end({ timeout: 5 })
    }
    return
  }
  const db = openDatabase(config.databasePath, ring, { log })
  try {
    console.log(`SQLite schema of ${config.databasePath}: at version ${String(db.pragma('user_version', { simple: true }))} of ${migrations.length}.`)
  } finally {
    db.close()
  }
}

main().catch((error: unknown) => fail('migrate', error))
