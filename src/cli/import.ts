// `npm run import -- <folder of the original app>` (server stopped): its users, rooms, history and
// files into this server's database. Options: --db <chat.db>, --key-file <file>, --media <folder>
// (each instead of the one in the folder), --dry-run (everything is done in a throwaway copy of
// this server's database and media folder, and reported; nothing of yours is written). Into the
// database DATABASE_URL names, SQLite or PostgreSQL, as the server would open it.
import Database from 'better-sqlite3'
import dotenv from 'dotenv'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Fernet, FernetRing } from '../crypto/fernet.js'
import { checkOriginalKey, runImport, type ImportReport } from '../import/importer.js'
import { progressOn } from '../import/progress.js'
import { openDatabase } from '../storage/database.js'
import { createImportsRepo, type ImportsStore } from '../storage/imports.js'
import { createMediaRepo } from '../storage/media.js'
import { createMessagesRepo } from '../storage/messages.js'
import { MaintenanceError } from '../storage/maintenance.js'
import { openOriginal } from '../storage/original.js'
import { connectPg, type Sql } from '../storage/pg/connect.js'
import { createPgImports, holdImportLock } from '../storage/pg/imports.js'
import { createPgMessages } from '../storage/pg/messages.js'
import { migratePg } from '../storage/pg/migrate.js'
import { createUnreadableRows } from '../storage/unreadable.js'
import { fail, loadSettings } from './common.js'

const USAGE = 'Usage: npm run import -- <folder of the original app> [--db chat.db] [--key-file .fernet_key] [--media media/] [--dry-run]'
const VALUED = ['db', 'key-file', 'media']

function parseArgs (args: readonly string[]) {
  const values: Record<string, string> = {}
  const positional: string[] = []
  let dryRun = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--dry-run') {
      dryRun = true
    } else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      if (!VALUED.includes(name)) throw new MaintenanceError(`Unknown option ${arg}. ${USAGE}`)
      const value = inline ?? args[++i]
      if (value === undefined || value === '') throw new MaintenanceError(`--${name} needs a value. ${USAGE}`)
      values[name] = value
    } else {
      positional.push(arg)
    }
  }
  if (positional.length > 1) throw new MaintenanceError(`One folder, please. ${USAGE}`)
  // npm runs scripts in the package directory; a relative path means where the operator typed it.
  const here = (path: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), path)
  const folder = positional[0] === undefined ? undefined : here(positional[0])
  const inFolder = (name: string, option: string): string => {
    if (values[option] !== undefined) return here(values[option])
    if (folder === undefined) throw new MaintenanceError(USAGE)
    return join(folder, name)
  }
  return { folder, db: inFolder('chat.db', 'db'), media: inFolder('media', 'media'), keyFile: values['key-file'] === undefined ? undefined : here(values['key-file']), dryRun }
}

/** The original's key: --key-file, else its `.fernet_key` and/or ENCRYPTION_KEY in its `.env` (whichever reads its messages). */
function originalKeys (folder: string | undefined, keyFile: string | undefined): FernetRing {
  const keys: Array<{ key: string, from: string }> = []
  const fromFile = (path: string): void => {
    try {
      keys.push({ key: readFileSync(path, 'utf8').trim(), from: path })
    } catch {
      throw new MaintenanceError(`Cannot read the key file ${path}.`)
    }
  }
  if (keyFile !== undefined) {
    fromFile(keyFile)
  } else if (folder !== undefined) {
    if (existsSync(join(folder, '.fernet_key'))) fromFile(join(folder, '.fernet_key'))
    const env = join(folder, '.env')
    const key = existsSync(env) ? dotenv.parse(readFileSync(env)).ENCRYPTION_KEY?.trim() : undefined
    if (key !== undefined && key !== '') keys.push({ key, from: `ENCRYPTION_KEY in ${env}` })
  }
  if (keys.length === 0) throw new MaintenanceError(`No key for the original's messages: no .fernet_key or ENCRYPTION_KEY in ${folder ?? 'its folder'}'s .env. Give it with --key-file <file>.`)
  for (const { key, from } of keys) {
    if (!Fernet.isValidKey(key)) throw new MaintenanceError(`${from} does not hold a Fernet key (url-safe base64 of 32 bytes).`)
  }
  return new FernetRing(keys.map((k) => k.key))
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const original = openOriginal(args.db)
  const temp = args.dryRun ? mkdtempSync(join(tmpdir(), 'secure-chat-import-')) : undefined
  try {
    const keys = originalKeys(args.folder, args.keyFile)
    // Before this server's database is even opened: a wrong key changes nothing.
    const total = checkOriginalKey(original, keys)
    const config = loadSettings()
    const ring = new FernetRing(config.encryptionKeys)
    const mediaDir = temp === undefined ? config.mediaDir : join(temp, 'media')
    mkdirSync(mediaDir, { recursive: true, mode: 0o700 })
    const into = async (imports: ImportsStore, where: string): Promise<void> => {
      console.log(`${args.dryRun ? 'Dry run: importing into a throwaway copy' : 'Importing'}: ${total} messages from ${args.db}${args.dryRun ? '' : ` into ${where}`} …`)
      const progress = progressOn(process.stderr, 'messages')
      const report = await runImport({ original, originalKeys: keys, mediaFrom: args.media, imports, mediaDir, onProgress: progress.update })
      progress.finish()
      console.log(describe(report, args.dryRun))
    }
    if (config.database.kind === 'postgres') await intoPostgres(config.database.url, ring, args.dryRun, into)
    else await intoSqlite(config.databasePath, temp, ring, into)
  } finally {
    original.close()
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true })
  }
}

type Into = (imports: ImportsStore, where: string) => Promise<void>

/** A dry run works on a copy of the file in `temp`. */
async function intoSqlite (path: string, temp: string | undefined, ring: FernetRing, into: Into): Promise<void> {
  let databasePath = path
  if (temp !== undefined) {
    databasePath = join(temp, 'chat.db')
    if (existsSync(path)) {
      const ours = new Database(path, { readonly: true, fileMustExist: true })
      try {
        await ours.backup(databasePath)
      } finally {
        ours.close()
      }
    }
  }
  const db = openDatabase(databasePath, ring, { log: (line) => console.log(line) })
  // The synchronous repos underneath the SQLite store: the import writes batches in transactions of its own.
  const unreadable = createUnreadableRows()
  try {
    await into(createImportsRepo(db, createMessagesRepo(db, ring, unreadable), createMediaRepo(db, ring, unreadable)), path)
  } finally {
    db.close()
  }
}

class RolledBack extends Error {}

/**
 * Migrated first (under the advisory lock, like a starting server), then under the import lock
 * (a second import waits for the first). A dry run is one transaction, each batch a savepoint in
 * it, rolled back at the end: nothing of it is ever visible to others.
 */
async function intoPostgres (url: string, ring: FernetRing, dryRun: boolean, into: Into): Promise<void> {
  const sql = connectPg(url, { max: 3 }) // the lock's connection, the import's, one to spare
  try {
    await migratePg(sql, ring, (line) => console.log(line))
    const release = await holdImportLock(sql, () => console.log('Another import into this database is running: waiting for it to finish …'))
    try {
      await importWith(sql, ring, dryRun, into)
    } finally {
      await release()
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function importWith (sql: Sql, ring: FernetRing, dryRun: boolean, into: Into): Promise<void> {
  const unreadable = createUnreadableRows()
  const messages = createPgMessages(sql, ring, unreadable)
  const where = 'PostgreSQL (DATABASE_URL)'
  if (!dryRun) {
    await into(createPgImports(sql, messages, ring, unreadable), where)
    return
  }
  await sql.begin(async (tx) => {
    await into(createPgImports(tx, messages, ring, unreadable), where)
    throw new RolledBack()
  }).catch((error: unknown) => {
    if (!(error instanceof RolledBack)) throw error
  })
}

/** Quoted, with anything that would not show as itself (controls, bidi overrides, escapes) as \uXXXX. */
const quote = (text: string): string =>
  JSON.stringify(text).replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

function describe (r: ImportReport, dryRun: boolean): string {
  const lines: string[] = [dryRun ? 'Dry run done: nothing was written. A real run would bring in:' : 'Done:']
  lines.push(`  users:    ${r.users.imported} imported, ${r.users.renamed.length} of them renamed${r.users.already > 0 ? `, ${r.users.already} imported before` : ''}`)
  for (const { from, to } of r.users.renamed) lines.push(`    ${quote(from)} → ${to}`)
  if (r.users.newPasswordNeeded.length > 0) {
    lines.push(`    no usable password hash (they cannot log in until given a new password): ${r.users.newPasswordNeeded.join(', ')}`)
  }
  lines.push(`  rooms:    ${r.rooms.created} created, ${r.rooms.merged.length} merged into ours${r.rooms.merged.length > 0 ? ` (${r.rooms.merged.map(quote).join(', ')})` : ''}, ${r.rooms.renamed.length} renamed${r.rooms.already > 0 ? `, ${r.rooms.already} imported before` : ''}`)
  for (const { from, to } of r.rooms.renamed) lines.push(`    ${quote(from)} → ${quote(to)}`)
  lines.push(`  messages: ${r.messages.imported} imported${r.messages.already > 0 ? `, ${r.messages.already} imported before` : ''}${r.messages.skipped.length > 0 ? `, ${r.messages.skipped.length} skipped` : ''}`)
  for (const { id, reason } of r.messages.skipped.slice(0, 20)) lines.push(`    message ${id}: ${reason}`)
  lines.push(`  files:    ${r.files.imported} imported, ${r.files.missing.length} missing, ${r.files.refused.length} refused (those messages keep their text)`)
  for (const { message, path } of r.files.missing) lines.push(`    missing: ${quote(path)} (message ${message})`)
  for (const { message, path, reason } of r.files.refused) lines.push(`    refused: ${quote(path)} (message ${message}): ${reason}`)
  return lines.join('\n')
}

main().catch((error: unknown) => fail('import', error))
