// The search index on SQLite lives in a file of its own beside the database (`chat.db-search`),
// attached to a connection as schema `search`. It is written by one thread that is not the event
// loop's (search-thread.ts): FTS5's inserts cost a third of a send, and in the database's own file
// they would also need its single write lock, which the sends' group commit holds most of the
// time. Its own file has its own lock, so the thread never makes a send wait. It is rebuildable
// from the messages: deleting the file (with its -wal and -shm) only means a rebuild at start.
//
// The tables: an FTS5 table without content (`content=''`: only the inverted index), rowid =
// message id, `words` one keyed token per word in text order (positions make phrases and
// ranking), `prefixes` the tokens of words' first 2–4 characters; `contentless_delete` lets edits
// and deletes remove a message's tokens. `meta` names the key the tokens were made with.
import type { Db } from './database.js'
import type { IndexTokens, NewIndexEntry } from './types.js'
import type { SearchKeys } from '../search/tokens.js'

export const indexPathOf = (databasePath: string): string => `${databasePath}-search`

const SCHEMA = `
CREATE VIRTUAL TABLE IF NOT EXISTS search.message_search USING fts5(words, prefixes, content = '', contentless_delete = 1, tokenize = 'ascii');
CREATE TABLE IF NOT EXISTS search.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`

/** Attaches the index file (':memory:' with an in-memory database) as `search`, creating its tables. */
export function attachIndex (db: Db, path: string): void {
  db.prepare('ATTACH DATABASE ? AS search').run(path)
  if (path !== ':memory:') db.pragma('search.journal_mode = WAL')
  db.exec(SCHEMA)
}

const HEX_LIST = /^(?:[0-9a-f]+(?: [0-9a-f]+)*)?$/
const FINGERPRINT = 'search_key'

/** A message read by the backfill: `stamp` is its stored body, written only if still the same. */
export interface ScannedIndexEntry { messageId: number, stamp: string, tokens: IndexTokens }

/**
 * Every write to the index, on a connection that holds the database as `main` and the index as
 * `search`. Transactions are DEFERRED, so they never take the database's write lock (BEGIN
 * IMMEDIATE takes it on every attached file), and each first takes the index's, with a write that
 * changes nothing: SQLite will not wait for a lock a transaction that has read already asks for.
 */
export function createIndexWriter (db: Db, keys: SearchKeys) {
  const lock = db.prepare('UPDATE search.meta SET value = value WHERE 0')
  const writing = <A extends unknown[], R>(write: (...args: A) => R) => db.transaction((...args: A): R => {
    lock.run()
    return write(...args)
  })
  const remove = db.prepare<[number]>('DELETE FROM search.message_search WHERE rowid = ?')
  const insert = db.prepare<[number, string, string]>('INSERT INTO search.message_search (rowid, words, prefixes) VALUES (?, ?, ?)')
  const put = (messageId: number, tokens: IndexTokens, fresh = false): void => {
    const words = tokens.words.join(' ')
    const prefixes = tokens.prefixes.join(' ')
    if (!HEX_LIST.test(words) || !HEX_LIST.test(prefixes)) throw new TypeError('search tokens are hex')
    if (!fresh) remove.run(messageId)
    insert.run(messageId, words, prefixes)
  }
  const live = db.prepare<[number], number>('SELECT 1 FROM messages WHERE id = ? AND deleted_at IS NULL').pluck()
  const asSent = db.prepare<[number], number>('SELECT 1 FROM messages WHERE id = ? AND edited_at IS NULL AND deleted_at IS NULL').pluck()
  const inIndex = db.prepare<[number], number>('SELECT 1 FROM search.message_search_docsize WHERE id = ?').pluck()
  const bodyOf = db.prepare<[number], string>('SELECT body FROM messages WHERE id = ?').pluck()
  const setMeta = db.prepare<[string, string]>('INSERT INTO search.meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  const clear = db.prepare("INSERT INTO search.message_search (message_search) VALUES ('delete-all')")
  // Tokens whose message is gone from the index's point of view: deleted (a crash between the
  // delete's commit and its index write), or above the newest id (a database put back from a
  // backup while this file stayed). Tombstones are found through their partial index.
  const strays = db.prepare<[], number>(`
    SELECT id FROM messages m INDEXED BY messages_deleted
      WHERE deleted_at IS NOT NULL AND EXISTS (SELECT 1 FROM search.message_search_docsize d WHERE d.id = m.id)
    UNION ALL
    SELECT id FROM search.message_search_docsize WHERE id > (SELECT coalesce(max(id), 0) FROM messages)`).pluck()

  return {
    /** Messages as sent, indexed unless edited or deleted since (those wrote their own) or indexed already; how many. */
    fresh: writing((entries: readonly NewIndexEntry[]): number => {
      let written = 0
      for (const e of entries) {
        if (asSent.get(e.messageId) === undefined || inIndex.get(e.messageId) !== undefined) continue
        put(e.messageId, keys.forText(e.roomId, e.body), true)
        written++
      }
      return written
    }),
    /** An edit's tokens (null: none); nothing for a message deleted meanwhile. */
    replace: writing((messageId: number, tokens: IndexTokens | null): void => {
      if (tokens === null || live.get(messageId) === undefined) remove.run(messageId)
      else put(messageId, tokens)
    }),
    remove: writing((messageIds: readonly number[]): void => { for (const id of messageIds) remove.run(id) }),
    /** Backfill: each written unless its stored body changed since it was read; how many. */
    write: writing((entries: readonly ScannedIndexEntry[]): number => {
      let written = 0
      for (const e of entries) {
        if (bodyOf.get(e.messageId) !== e.stamp) continue
        put(e.messageId, e.tokens)
        written++
      }
      return written
    }),
    /** Empties the index and names the key it will be rebuilt with. */
    reset: writing((fingerprint: string): void => {
      clear.run()
      setMeta.run(FINGERPRINT, fingerprint)
    }),
    /** Takes out tokens of deleted messages and of ids the database does not have; how many. */
    tidy: writing((): number => {
      const ids = strays.all()
      for (const id of ids) remove.run(id)
      return ids.length
    })
  }
}

export type IndexWriter = ReturnType<typeof createIndexWriter>
export type IndexOp = keyof IndexWriter

/** Reads on a connection with the index attached. */
export function indexFingerprint (db: Db): string | null {
  return db.prepare<[string], string>('SELECT value FROM search.meta WHERE key = ?').pluck().get(FINGERPRINT) ?? null
}
