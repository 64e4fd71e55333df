// PgStore: the Store interface on PostgreSQL (DATABASE_URL=postgres://…). Opening connects,
// checks the key and migrates (under an advisory lock, see migrate.ts). Encryption stays above
// SQL exactly as on SQLite: the database sees Fernet tokens only.
import type { FernetRing } from '../../crypto/fernet.js'
import type { Store } from '../store.js'
import { createUnreadableRows } from '../unreadable.js'
import { createPgMedia, createPgTokens, createPgUsers } from './accounts.js'
import { connectPg, type Sql } from './connect.js'
import { createPgLifecycle } from './lifecycle.js'
import { createPgAudit, createPgBans, createPgMembers } from './conversations.js'
import { createPgMessageReader, createPgMessages } from './messages.js'
import { migratePg } from './migrate.js'
import { createPgReads, createPgRooms } from './rooms.js'
import { createPgSearch } from './search.js'
import { SearchKeys } from '../../search/tokens.js'
import { createPgWrites } from './writes.js'

export interface PgStoreOptions {
  log?: (message: string) => void
  onUnreadable?: (where: string) => void
  /** Connections in the pool. */
  max?: number
}

export function createPgStore (sql: Sql, ring: FernetRing, options: PgStoreOptions = {}): Store {
  const unreadable = createUnreadableRows(options.onUnreadable)
  const messages = createPgMessages(sql, ring, unreadable)
  const lifecycle = createPgLifecycle(sql, ring, unreadable)
  return {
    dialect: 'postgres',
    users: createPgUsers(sql),
    rooms: createPgRooms(sql),
    messages,
    lifecycle,
    writes: createPgWrites(sql, messages, lifecycle),
    tokens: createPgTokens(sql),
    reads: createPgReads(sql),
    media: createPgMedia(sql, ring, unreadable),
    members: createPgMembers(sql),
    bans: createPgBans(sql),
    audit: createPgAudit(sql),
    search: createPgSearch(sql, createPgMessageReader(sql, ring, unreadable), new SearchKeys(ring)),
    unreadableRows: unreadable.count,
    async healthy (): Promise<boolean> {
      try {
        const [row] = await sql<Array<{ one: number }>>`SELECT 1 AS one`
        return row?.one === 1
      } catch {
        return false
      }
    },
    async close (): Promise<void> {
      await sql.end({ timeout: 5 })
    }
  }
}

/** Connects, checks the key, migrates; the store is ready for requests when this resolves. */
export async function openPgStore (url: string, ring: FernetRing, options: PgStoreOptions = {}): Promise<Store> {
  const sql = connectPg(url, { max: options.max })
  try {
    await migratePg(sql, ring, options.log)
  } catch (error) {
    await sql.end({ timeout: 1 })
    throw error
  }
  return createPgStore(sql, ring, options)
}
