// `npm run backup -- <file>`: a consistent copy of the database, taken online (the server may keep
// running), checked (integrity_check, and the current key reads it). The copy holds only
// encrypted bodies: keep `.fernet_key` (or ENCRYPTION_KEY), `.secret_key` and MEDIA_DIR too.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { FernetRing } from '../crypto/fernet.js'
import { backupDatabase, checkCopyReadable, MaintenanceError, openExisting } from '../storage/maintenance.js'
import { fail, loadSettings } from './common.js'

async function main (): Promise<void> {
  const target = process.argv.slice(2).find((a) => !a.startsWith('--'))
  if (target === undefined) throw new MaintenanceError('Usage: npm run backup -- <file>   (e.g. npm run backup -- backups/chat-2026-11-28.db)')
  // npm runs scripts in the package directory; a relative file means where the operator typed it.
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), target)
  if (existsSync(file)) throw new MaintenanceError(`${file} exists already: choose a new file name (a backup never overwrites).`)
  const config = loadSettings()
  if (config.database.kind === 'postgres') throw new MaintenanceError('npm run backup copies SQLite files; on PostgreSQL use pg_dump (README, Several nodes), and keep the keys and MEDIA_DIR with it.')
  const ring = new FernetRing(config.encryptionKeys)
  const db = openExisting(config.databasePath, ring)
  const partial = `${file}.partial`
  rmSync(partial, { force: true })
  // `backups/chat-$(date +%F).db` on the first run: the folder is made, as `mkdir -p` would.
  mkdirSync(dirname(file), { recursive: true })
  try {
    console.log(`Backing up ${config.databasePath} …`)
    const pages = await backupDatabase(db, partial)
    checkCopyReadable(partial, ring)
    renameSync(partial, file) // only a complete, checked copy gets the name
    console.log(`Done: ${file} (${pages} pages, integrity ok, readable with the current key).`)
    console.log(`Keep with it: .fernet_key or your ENCRYPTION_KEY (without it the messages cannot be read), .secret_key, and the media directory (${config.mediaDir}).`)
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  } finally {
    db.close()
  }
}

main().catch((error: unknown) => fail('backup', error))
