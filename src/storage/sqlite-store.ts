// SqliteStore: the Store interface over better-sqlite3. The repos underneath stay synchronous
// (prepared statements, one synchronous transaction per write, the group commit's batch included);
// their answers are handed over as settled promises, so callers are the same for every store.
import type { FernetRing } from '../crypto/fernet.js'
import type { Db } from './database.js'
import { createLifecycleRepo } from './lifecycle.js'
import { createMediaRepo } from './media.js'
import { createMessagesRepo } from './messages.js'
import { createReadsRepo } from './reads.js'
import { createRoomsRepo } from './rooms.js'
import { createAuditRepo } from './audit.js'
import { createBansRepo, createMembersRepo } from './members.js'
import type { AuditStore, BansStore, LifecycleStore, MediaStore, MembersStore, MessagesStore, ReadsStore, RoomsStore, SearchStore, Store, TokensStore, UsersStore, WritesStore } from './store.js'
import { createSearchRepo } from './search.js'
import { createTokensRepo } from './tokens.js'
import { createUnreadableRows } from './unreadable.js'
import { createUsersRepo } from './users.js'
import { createWritesRepo } from './writes.js'

export interface StoreOptions {
  /** Called once per stored row that no key decrypts, the first time it is read. */
  onUnreadable?: (where: string) => void
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

export function createSqliteStore (db: Db, ring: FernetRing, options: StoreOptions = {}): Store {
  const ping = db.prepare('SELECT 1').pluck()
  const unreadable = createUnreadableRows(options.onUnreadable)
  const messages = createMessagesRepo(db, ring, unreadable)
  const lifecycle = createLifecycleRepo(db, ring, unreadable)
  return {
    dialect: 'sqlite',
    users: promised<UsersStore>(createUsersRepo(db)),
    rooms: promised<RoomsStore>(createRoomsRepo(db)),
    messages: promised<MessagesStore>(messages),
    lifecycle: promised<LifecycleStore>(lifecycle),
    writes: promised<WritesStore>(createWritesRepo(db, messages, lifecycle)),
    tokens: promised<TokensStore>(createTokensRepo(db)),
    reads: promised<ReadsStore>(createReadsRepo(db)),
    media: promised<MediaStore>(createMediaRepo(db, ring, unreadable)),
    members: promised<MembersStore>(createMembersRepo(db)),
    bans: promised<BansStore>(createBansRepo(db)),
    audit: promised<AuditStore>(createAuditRepo(db)),
    search: promised<SearchStore>(createSearchRepo(db, ring, unreadable)),
    unreadableRows: unreadable.count,
    async healthy (): Promise<boolean> {
      try {
        return ping.get() === 1
      } catch {
        return false
      }
    },
    async close (): Promise<void> {
      if (db.open) db.close()
    }
  }
}
