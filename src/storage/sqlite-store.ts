// SqliteStore: the Store interface over better-sqlite3. The repos underneath stay synchronous
// (prepared statements, one synchronous transaction per write, the group commit's batch included);
// their answers are handed over as settled promises, so callers are the same for every store.
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import type { FernetRing } from '../crypto/fernet.js'
import { SearchKeys } from '../search/tokens.js'
import { prepareDatabaseFile, type Db } from './database.js'
import { createLifecycleRepo, type IndexEffects } from './lifecycle.js'
import { createMediaRepo } from './media.js'
import { createMessagesRepo } from './messages.js'
import { createReadsRepo } from './reads.js'
import { createRoomsRepo } from './rooms.js'
import { createAuditRepo } from './audit.js'
import { createBansRepo, createMembersRepo } from './members.js'
import type { AuditStore, BansStore, LifecycleStore, MediaStore, MembersStore, MessagesStore, ReadsStore, RoomsStore, Store, TokensStore, UsersStore, WritesStore } from './store.js'
import { createSearchRepo } from './search.js'
import { attachIndex, indexPathOf } from './search-index.js'
import { inlineWrites, threadWrites, type IndexWrites } from './search-writer.js'
import { createTokensRepo } from './tokens.js'
import { createUnreadableRows } from './unreadable.js'
import { createUsersRepo } from './users.js'
import { createWritesRepo } from './writes.js'

export interface StoreOptions {
  /** Called once per stored row that no key decrypts, the first time it is read. */
  onUnreadable?: (where: string) => void
  /** false (SEARCH_INDEX=off): the index is emptied at start and never written (it would go stale). */
  searchIndex?: boolean
  /** Told what the operator should know: a write to the search index that failed. */
  log?: (message: string) => void
}

/** What a synchronous repo must offer for the asynchronous interface T. */
type SyncOf<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never }

/** The repo's methods, answering in promises (a throw becomes a rejection). */
function promised<T extends object> (repo: SyncOf<T>): T {
  const result: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(repo)) {
    if (typeof method !== 'function') continue
    result[name] = async (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(repo, args)
  }
  return result as T
}

interface SearchIndex {
  /** The connection searches read on: the index attached as `search`. */
  reader: Db
  writes: IndexWrites
}

/**
 * The search index's file beside the database (search-index.ts): read on a connection of its own
 * (a connection with it attached would take its lock on every BEGIN IMMEDIATE, the sends' too),
 * written by the index thread. An in-memory database holds it in memory, written in place.
 */
function openSearchIndex (db: Db, keys: SearchKeys, on: boolean, log: (message: string) => void, replaced = false): SearchIndex {
  if (db.memory) {
    attachIndex(db, ':memory:')
    return { reader: db, writes: inlineWrites(db, keys) }
  }
  const indexPath = indexPathOf(db.name)
  const removeIndex = (): void => { for (const file of [indexPath, `${indexPath}-wal`, `${indexPath}-shm`]) rmSync(file, { force: true }) }
  if (!on) removeIndex()
  prepareDatabaseFile(indexPath)
  const reader = new Database(db.name)
  try {
    attachIndex(reader, indexPath)
  } catch (error) {
    reader.close()
    if (replaced) throw error
    // Not a database (damaged, or another file under its name): it holds nothing the messages
    // cannot give again, so it is replaced, and rebuilt in the background.
    log(`search index: ${indexPath} could not be opened (${String(error)}); starting a new one`)
    removeIndex()
    return openSearchIndex(db, keys, on, log, true)
  }
  reader.pragma('query_only = ON')
  const writes = threadWrites(db.name, indexPath, keys)
  // Tokens a crash kept after their message's delete go at start, before anything is searched.
  if (on) writes.tidy().catch((error: unknown) => log(`search index: could not check it for deleted messages (${String(error)}); the next start tries again`))
  return { reader, writes }
}

export function createSqliteStore (db: Db, ring: FernetRing, options: StoreOptions = {}): Store {
  const ping = db.prepare('SELECT 1').pluck()
  const unreadable = createUnreadableRows(options.onUnreadable)
  const log = options.log ?? (() => {})
  const indexOn = options.searchIndex ?? true
  const index = openSearchIndex(db, new SearchKeys(ring), indexOn, log)

  // Edits' and deletes' index writes follow their commit; inside the group commit's batch, the
  // batch's commit (and none when it fails).
  let afterCommit: Array<() => void> = []
  const later = (effect: () => void): void => {
    if (!indexOn) return
    if (db.inTransaction) afterCommit.push(effect)
    else effect()
  }
  const failed = (error: unknown): void => log(`search index: an edit or delete could not be written to it (${String(error)}); npm run reindex rebuilds it`)
  const effects: IndexEffects = {
    replace: (messageId, tokens) => later(() => { index.writes.replace(messageId, tokens).catch(failed) }),
    remove: (messageId) => later(() => { index.writes.remove([messageId]).catch(failed) })
  }

  const messages = createMessagesRepo(db, ring, unreadable)
  const lifecycle = createLifecycleRepo(db, ring, unreadable, effects)
  const writes = createWritesRepo(db, messages, lifecycle)
  return {
    dialect: 'sqlite',
    users: promised<UsersStore>(createUsersRepo(db)),
    rooms: promised<RoomsStore>(createRoomsRepo(db)),
    messages: promised<MessagesStore>(messages),
    lifecycle: promised<LifecycleStore>(lifecycle),
    writes: promised<WritesStore>({
      batch (batch) {
        let done
        try {
          done = writes.batch(batch)
        } finally {
          const effects = db.inTransaction ? [] : afterCommit
          afterCommit = []
          if (done !== undefined) for (const effect of effects) effect()
        }
        return done
      }
    }),
    tokens: promised<TokensStore>(createTokensRepo(db)),
    reads: promised<ReadsStore>(createReadsRepo(db)),
    media: promised<MediaStore>(createMediaRepo(db, ring, unreadable)),
    members: promised<MembersStore>(createMembersRepo(db)),
    bans: promised<BansStore>(createBansRepo(db)),
    audit: promised<AuditStore>(createAuditRepo(db)),
    search: createSearchRepo(index.reader, ring, unreadable, index.writes),
    unreadableRows: unreadable.count,
    async healthy (): Promise<boolean> {
      try {
        return ping.get() === 1
      } catch {
        return false
      }
    },
    async close (): Promise<void> {
      await index.writes.close()
      if (index.reader !== db && index.reader.open) index.reader.close()
      if (db.open) db.close()
    }
  }
}
