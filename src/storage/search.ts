// The search index on SQLite: an FTS5 table without content (migration 9), rowid = message id,
// holding keyed tokens only. Candidates come back decrypted; the search service checks them
// against their real text. Tokens are hex, so every token is quoted and nothing typed by a user
// ever reaches an FTS5 query.
import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import { COLUMNS, createMessageReader, type MessageRow } from './messages.js'
import type { UnreadableRows } from './unreadable.js'
import type { IndexQuery, IndexTerm, IndexTokens, Message, ScannedMessage } from './types.js'

const HEX = /^[0-9a-f]+$/
const HEX_LIST = /^(?:[0-9a-f]+(?: [0-9a-f]+)*)?$/
const FINGERPRINT = 'search_key'

const quoted = (tokens: readonly string[]): string => {
  for (const t of tokens) if (!HEX.test(t)) throw new TypeError('search tokens are hex')
  return `"${tokens.join(' ')}"`
}

/** FTS5 query text: each term a group of alternatives, all terms required. */
export function ftsQuery (terms: readonly IndexTerm[]): string {
  return terms.map((term) => {
    const column = term.kind === 'prefix' ? 'prefixes' : 'words'
    return `(${term.alternatives.map((a) => `${column} : ${quoted(a)}`).join(' OR ')})`
  }).join(' AND ')
}

/**
 * Writes one message's tokens (inside the caller's transaction), replacing any it had; `fresh`: a
 * message inserted just now, which has none (the lookup is saved on every send).
 */
export function searchIndexWriter (db: Db): (messageId: number, tokens: IndexTokens, fresh?: boolean) => void {
  const remove = db.prepare<[number]>('DELETE FROM message_search WHERE rowid = ?')
  const insert = db.prepare<[number, string, string]>('INSERT INTO message_search (rowid, words, prefixes) VALUES (?, ?, ?)')
  return (messageId, tokens, fresh = false) => {
    const words = tokens.words.join(' ')
    const prefixes = tokens.prefixes.join(' ')
    if (!HEX_LIST.test(words) || !HEX_LIST.test(prefixes)) throw new TypeError('search tokens are hex')
    if (!fresh) remove.run(messageId)
    insert.run(messageId, words, prefixes)
  }
}

export function createSearchRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows) {
  const { toMessages } = createMessageReader(db, ring, unreadable)
  const write = searchIndexWriter(db)
  const getMeta = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck()
  const setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  const clear = db.prepare("INSERT INTO message_search (message_search) VALUES ('delete-all')")
  const remove = db.prepare<[number]>('DELETE FROM message_search WHERE rowid = ?')
  const exists = db.prepare<[number], number>('SELECT 1 FROM messages WHERE id = ?').pluck()
  const bodyOf = db.prepare<[number], string>('SELECT body FROM messages WHERE id = ?').pluck()
  const scanAll = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.id > ? AND m.deleted_at IS NULL ORDER BY m.id LIMIT ?`)
  const scanUnindexed = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS}
    WHERE m.id > ? AND m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM message_search s WHERE s.rowid = m.id) ORDER BY m.id LIMIT ?`)
  // FTS5's own table of document sizes has one row per indexed message: counting it is a b-tree
  // count (a fraction of a millisecond for a million), where counting the FTS5 table scans it.
  const indexed = db.prepare<[], number>('SELECT count(*) FROM message_search_docsize').pluck()
  // Tombstones are never indexed: counted through their partial index (migration), not a scan.
  const total = db.prepare<[], number>('SELECT (SELECT count(*) FROM messages) - (SELECT count(*) FROM messages INDEXED BY messages_deleted WHERE deleted_at IS NOT NULL)').pluck()
  const userId = db.prepare<[string], number>('SELECT id FROM users WHERE username = ? COLLATE NOCASE').pluck()

  // One statement per shape of query, prepared once. Room ids go in as a JSON array.
  const statements = new Map<string, ReturnType<Db['prepare']>>()
  const statement = (key: string, text: () => string): ReturnType<Db['prepare']> => {
    let s = statements.get(key)
    if (s === undefined) {
      s = db.prepare(text())
      statements.set(key, s)
    }
    return s
  }

  function find (query: IndexQuery): Message[] {
    let author: number | null = null
    if (query.authorName !== null) {
      const id = userId.get(query.authorName)
      if (id === undefined) return []
      author = id
    }
    if (query.roomIds.length === 0) return []
    const rooms = JSON.stringify(query.roomIds)
    const before = query.before ?? Number.MAX_SAFE_INTEGER
    const byAuthor = author === null ? '' : 'AND m.user_id = @author'
    if (query.terms.length === 0) {
      const s = statement(`list${byAuthor}`, () => `SELECT ${COLUMNS}
        WHERE m.id < @before AND m.deleted_at IS NULL AND m.room_id IN (SELECT value FROM json_each(@rooms)) ${byAuthor}
        ORDER BY m.id DESC LIMIT @limit OFFSET @offset`)
      return toMessages(s.all({ before, rooms, author, limit: query.limit, offset: query.offset }) as MessageRow[])
    }
    const order = query.order === 'relevance' ? 's.rank, s.rowid DESC' : 's.rowid DESC'
    const s = statement(`match${byAuthor}${order}`, () => `SELECT ${COLUMNS.replace('FROM messages m', 'FROM message_search s JOIN messages m ON m.id = s.rowid')}
      WHERE message_search MATCH @match AND s.rowid < @before AND m.deleted_at IS NULL AND m.room_id IN (SELECT value FROM json_each(@rooms)) ${byAuthor}
      ORDER BY ${order} LIMIT @limit OFFSET @offset`)
    const params = { match: ftsQuery(query.terms), before, rooms, limit: query.limit, offset: query.offset }
    return toMessages(s.all(author === null ? params : { ...params, author }) as MessageRow[])
  }

  const writeScanned = db.transaction((entries: ReadonlyArray<{ messageId: number, stamp: string, tokens: IndexTokens }>): number => {
    let written = 0
    for (const e of entries) {
      if (bodyOf.get(e.messageId) !== e.stamp) continue
      write(e.messageId, e.tokens)
      written++
    }
    return written
  })
  const asSent = db.prepare<[number], number>('SELECT 1 FROM messages WHERE id = ? AND edited_at IS NULL AND deleted_at IS NULL').pluck()
  const inIndex = db.prepare<[number], number>('SELECT 1 FROM message_search_docsize WHERE id = ?').pluck()
  const writeNew = db.transaction((entries: ReadonlyArray<{ messageId: number, tokens: IndexTokens }>): number => {
    let written = 0
    for (const e of entries) {
      if (asSent.get(e.messageId) === undefined || inIndex.get(e.messageId) !== undefined) continue
      write(e.messageId, e.tokens, true)
      written++
    }
    return written
  })
  const replace = db.transaction((messageId: number, tokens: IndexTokens): void => {
    if (exists.get(messageId) === undefined) return
    write(messageId, tokens)
  })
  const removeAll = db.transaction((ids: readonly number[]): void => { for (const id of ids) remove.run(id) })
  const reset = db.transaction((fingerprint: string): void => {
    clear.run()
    setMeta.run(FINGERPRINT, fingerprint)
  })

  return {
    keyFingerprint: (): string | null => getMeta.get(FINGERPRINT) ?? null,
    reset: (fingerprint: string): void => reset.immediate(fingerprint),
    replace: (messageId: number, tokens: IndexTokens): void => replace.immediate(messageId, tokens),
    remove: (messageIds: readonly number[]): void => removeAll.immediate(messageIds),
    scan (afterId: number, limit: number, which: 'unindexed' | 'all'): ScannedMessage[] {
      const rows = (which === 'all' ? scanAll : scanUnindexed).all(afterId, limit)
      const messages = toMessages(rows)
      return rows.map((row, i) => ({ message: messages[i]!, stamp: row.body }))
    },
    write: (entries: ReadonlyArray<{ messageId: number, stamp: string, tokens: IndexTokens }>): number => writeScanned.immediate(entries),
    writeNew (entries: ReadonlyArray<{ messageId: number, tokens: IndexTokens }>): number {
      // Rebuildable from the messages, so not worth an fsync of its own: in WAL mode NORMAL only
      // risks losing this commit in a crash (the next FULL commit syncs it along), never the file.
      db.pragma('synchronous = NORMAL')
      try {
        return writeNew.immediate(entries)
      } finally {
        db.pragma('synchronous = FULL')
      }
    },
    progress: (): { indexed: number, total: number } => ({ indexed: indexed.get() ?? 0, total: total.get() ?? 0 }),
    find
  }
}
