// The search index on SQLite (search-index.ts: an FTS5 table in a file of its own, rowid =
// message id, holding keyed tokens only). Reads run here, on a connection that has the index
// attached; writes go to the index thread (search-writer.ts). Candidates come back decrypted; the
// search service checks them against their real text. Tokens are hex, so every token is quoted
// and nothing typed by a user ever reaches an FTS5 query.
import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import { COLUMNS, createMessageReader, type MessageRow } from './messages.js'
import type { UnreadableRows } from './unreadable.js'
import { indexFingerprint } from './search-index.js'
import type { IndexWrites } from './search-writer.js'
import type { SearchStore } from './store.js'
import type { IndexQuery, IndexTerm, Message } from './types.js'

const HEX = /^[0-9a-f]+$/

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

/** `db` has the index attached as `search` (search-index.ts); `writes` are the index thread's. */
export function createSearchRepo (db: Db, ring: FernetRing, unreadable: UnreadableRows, writes: IndexWrites): SearchStore {
  const { toMessages } = createMessageReader(db, ring, unreadable)
  const scanAll = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS} WHERE m.id > ? AND m.deleted_at IS NULL ORDER BY m.id LIMIT ?`)
  const scanUnindexed = db.prepare<[number, number], MessageRow>(`SELECT ${COLUMNS}
    WHERE m.id > ? AND m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM search.message_search_docsize s WHERE s.id = m.id) ORDER BY m.id LIMIT ?`)
  // FTS5's own table of document sizes has one row per indexed message: counting it is a b-tree
  // count (a fraction of a millisecond for a million), where counting the FTS5 table scans it.
  const indexed = db.prepare<[], number>('SELECT count(*) FROM search.message_search_docsize').pluck()
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
    const s = statement(`match${byAuthor}${order}`, () => `SELECT ${COLUMNS.replace('FROM messages m', 'FROM search.message_search s JOIN messages m ON m.id = s.rowid')}
      WHERE s.message_search MATCH @match AND s.rowid < @before AND m.deleted_at IS NULL AND m.room_id IN (SELECT value FROM json_each(@rooms)) ${byAuthor}
      ORDER BY ${order} LIMIT @limit OFFSET @offset`)
    const params = { match: ftsQuery(query.terms), before, rooms, limit: query.limit, offset: query.offset }
    return toMessages(s.all(author === null ? params : { ...params, author }) as MessageRow[])
  }

  return {
    async keyFingerprint () {
      await writes.settled()
      return indexFingerprint(db)
    },
    reset: async (fingerprint) => { await writes.reset(fingerprint) },
    replace: async (messageId, tokens) => { await writes.replace(messageId, tokens) },
    remove: async (messageIds) => { await writes.remove(messageIds) },
    async scan (afterId, limit, which) {
      await writes.settled()
      const rows = (which === 'all' ? scanAll : scanUnindexed).all(afterId, limit)
      const messages = toMessages(rows)
      return rows.map((row, i) => ({ message: messages[i]!, stamp: row.body }))
    },
    write: async (entries) => await writes.write(entries),
    writeNew: async (entries) => await writes.fresh(entries),
    async progress () {
      await writes.settled()
      return { indexed: indexed.get() ?? 0, total: total.get() ?? 0 }
    },
    // An edit or a delete just made (written by the index thread) is seen by the next search.
    async find (query) {
      await writes.settled()
      return find(query)
    }
  }
}
