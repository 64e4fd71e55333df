// The operator's key rotation on PostgreSQL: every token re-encrypted under the first key in ONE
// transaction, so it is all or nothing: an interrupted or failed run leaves the database exactly
// as it was, and a finished one has nothing left under an old key. A running server (on the same
// keys, "new,old") goes on meanwhile: reads see the old tokens until the commit, new messages are
// written under the first key anyway, and only a row this run rewrote waits for the commit if
// something else wants to change it.
import type { FernetRing } from '../../crypto/fernet.js'
import { KEY_CHECK, KEY_CHECK_TEXT } from '../database.js'
import { MaintenanceError, underFirstKey } from '../maintenance.js'
import { loadMigrations } from '../migrate/files.js'
import { connectPg, type Sql, type Tx } from './connect.js'
import { checkKeyPg } from './migrate.js'

/** Another fixed number ("SCROT"): two rotations never run at once. */
const ROTATION_LOCK = 0x5343524f54
/** How many unreadable rows an error names. */
const NAMED = 5

/**
 * Connects to an existing database that the keys can read, at the schema this code knows. Never
 * creates or migrates anything: the server (or `npm run migrate`) does that.
 */
export async function openPgExisting (url: string, ring: FernetRing): Promise<Sql> {
  const sql = connectPg(url, { max: 1 })
  try {
    const [table] = await sql<Array<{ name: string | null }>>`SELECT to_regclass('schema_migrations')::text AS name`
    if (table?.name == null) throw new MaintenanceError('No Secure Chat database at DATABASE_URL (it has no schema_migrations table): start the server once first.')
    const [row] = await sql<Array<{ version: number | null }>>`SELECT max(version) AS version FROM schema_migrations`
    const known = loadMigrations('pg').length
    if ((row?.version ?? 0) !== known) {
      throw new MaintenanceError(`The database is at schema ${row?.version ?? 0}, this tool knows ${known}: start the server once with this version first.`)
    }
    await checkKeyPg(sql, ring)
    return sql
  } catch (error) {
    await sql.end({ timeout: 1 })
    throw error
  }
}

export interface PgRotationProgress { checked: number, total: number, rotated: number }
export interface PgRotationResult { messages: { total: number, rotated: number }, media: { total: number, rotated: number } }

/** Names rows no key reads; nothing was changed. */
export class UnreadableRowsError extends MaintenanceError {
  constructor (rows: readonly string[]) {
    const named = rows.slice(0, NAMED).join(', ') + (rows.length > NAMED ? ` and ${rows.length - NAMED} more` : '')
    super(`${named} cannot be read with any key in ENCRYPTION_KEY: add the key ${rows.length === 1 ? 'it was' : 'they were'} written with. Nothing was changed.`)
    this.name = 'UnreadableRowsError'
  }
}

/**
 * Re-encrypts message bodies, attachments, earlier versions of edited messages and upload names under the first key, checks that the
 * first key alone reads every row, and moves the key-check row to it: one transaction, read and
 * written `batchSize` rows at a time. Throws (and changes nothing) when a row cannot be read.
 */
export async function rotatePg (sql: Sql, ring: FernetRing, firstOnly: FernetRing, options: { batchSize: number, onProgress?: (p: PgRotationProgress) => void }): Promise<PgRotationResult> {
  const size = options.batchSize
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${ROTATION_LOCK})`
    const [counts] = await tx<Array<{ messages: number, media: number }>>`
      SELECT (SELECT count(*) FROM messages)::bigint AS messages, (SELECT count(*) FROM media)::bigint AS media`
    const result: PgRotationResult = { messages: { total: counts!.messages, rotated: 0 }, media: { total: counts!.media, rotated: 0 } }
    const unreadable: string[] = []
    const rotate = (token: string, where: string): string => {
      const rotated = underFirstKey(ring, token)
      if (rotated === null) unreadable.push(where)
      return rotated ?? token
    }

    let checked = 0
    for await (const rows of messagePages(tx, size)) {
      const changed = rows.flatMap((row) => {
        const body = rotate(row.body, `message ${row.id}`)
        const attachment = row.attachment === null ? null : rotate(row.attachment, `the attachment of message ${row.id}`)
        return body === row.body && attachment === row.attachment ? [] : [{ id: row.id, body, attachment, old_body: row.body, old_attachment: row.attachment }]
      })
      // Only where the row is still what was read: a message changed meanwhile was written under the first key.
      if (changed.length > 0) {
        const column = <K extends keyof typeof changed[number]>(key: K) => changed.map((c) => c[key])
        await tx`UPDATE messages SET body = v.body, attachment = v.attachment
          FROM unnest(${column('id')}::bigint[], ${column('body')}::text[], ${column('attachment')}::text[], ${column('old_body')}::text[], ${column('old_attachment')}::text[])
            AS v (id, body, attachment, old_body, old_attachment)
          WHERE messages.id = v.id AND messages.body = v.old_body AND messages.attachment IS NOT DISTINCT FROM v.old_attachment`
      }
      checked += rows.length
      result.messages.rotated += changed.length
      options.onProgress?.({ checked, total: result.messages.total, rotated: result.messages.rotated })
    }
    for await (const rows of editPages(tx, size)) {
      const changed = rows.flatMap((row) => {
        const body = rotate(row.body, `an earlier version of message ${row.message_id}`)
        return body === row.body ? [] : [{ id: row.id, body, old: row.body }]
      })
      if (changed.length > 0) {
        await tx`UPDATE message_edits SET body = v.body
          FROM unnest(${changed.map((c) => c.id)}::bigint[], ${changed.map((c) => c.body)}::text[], ${changed.map((c) => c.old)}::text[]) AS v (id, body, old)
          WHERE message_edits.id = v.id AND message_edits.body = v.old`
      }
    }
    for await (const rows of mediaPages(tx, size)) {
      const changed = rows.flatMap((row) => {
        const name = rotate(row.original_name, `the name of upload ${row.name}`)
        return name === row.original_name ? [] : [{ name: row.name, original_name: name, old: row.original_name }]
      })
      if (changed.length > 0) {
        await tx`UPDATE media SET original_name = v.original_name
          FROM unnest(${changed.map((c) => c.name)}::text[], ${changed.map((c) => c.original_name)}::text[], ${changed.map((c) => c.old)}::text[]) AS v (name, original_name, old)
          WHERE media.name = v.name AND media.original_name = v.old`
      }
      result.media.rotated += changed.length
    }
    if (unreadable.length > 0) throw new UnreadableRowsError(unreadable)

    // Proven before the key check says so: every row, as this transaction now sees it, opens with the first key alone.
    const notYet: string[] = []
    const readable = (token: string): boolean => firstOnly.isCurrent(token)
    for await (const rows of messagePages(tx, size)) {
      for (const row of rows) if (!readable(row.body) || (row.attachment !== null && !readable(row.attachment))) notYet.push(`message ${row.id}`)
    }
    for await (const rows of editPages(tx, size)) {
      for (const row of rows) if (!readable(row.body)) notYet.push(`an earlier version of message ${row.message_id}`)
    }
    for await (const rows of mediaPages(tx, size)) {
      for (const row of rows) if (!readable(row.original_name)) notYet.push(`upload ${row.name}`)
    }
    if (notYet.length > 0) throw new MaintenanceError(`Not done: the first key alone cannot read ${notYet.slice(0, NAMED).join(', ')}. Nothing was changed; run rotate-keys again.`)
    await tx`UPDATE meta SET value = ${ring.encrypt(KEY_CHECK_TEXT)} WHERE key = ${KEY_CHECK}`
    return result
  }) as PgRotationResult
}

/** Messages in id order, `size` at a time (keyset pages: each a short statement); tombstones hold no token. */
async function * messagePages (tx: Tx, size: number): AsyncGenerator<Array<{ id: number, body: string, attachment: string | null }>> {
  for (let after = 0; ;) {
    const rows = await tx<Array<{ id: number, body: string, attachment: string | null }>>`
      SELECT id, body, attachment FROM messages WHERE id > ${after} AND deleted_at IS NULL ORDER BY id LIMIT ${size}`
    if (rows.length > 0) yield rows
    if (rows.length < size) return
    after = rows.at(-1)!.id
  }
}

/** Earlier versions of edited messages (each a token), in id order. */
async function * editPages (tx: Tx, size: number): AsyncGenerator<Array<{ id: number, message_id: number, body: string }>> {
  for (let after = 0; ;) {
    const rows = await tx<Array<{ id: number, message_id: number, body: string }>>`
      SELECT id, message_id, body FROM message_edits WHERE id > ${after} ORDER BY id LIMIT ${size}`
    if (rows.length > 0) yield rows
    if (rows.length < size) return
    after = rows.at(-1)!.id
  }
}

async function * mediaPages (tx: Tx, size: number): AsyncGenerator<Array<{ name: string, original_name: string }>> {
  for (let after = ''; ;) {
    const rows = await tx<Array<{ name: string, original_name: string }>>`
      SELECT name, original_name FROM media WHERE name > ${after} ORDER BY name LIMIT ${size}`
    if (rows.length > 0) yield rows
    if (rows.length < size) return
    after = rows.at(-1)!.name
  }
}
