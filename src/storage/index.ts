// The storage module: the only code that knows SQL. Routes and the hub see the Store interface
// (store.ts), whose methods answer in promises, so SQLite and PostgreSQL stand in for each other.
import type { FernetRing } from '../crypto/fernet.js'
import { openDatabase, type Db, type OpenOptions } from './database.js'
import { createSqliteStore, type StoreOptions } from './sqlite-store.js'
import { openPgStore } from './pg/index.js'
import type { Store } from './store.js'
import type { DatabaseTarget } from './url.js'

export { KeyMismatchError } from './database.js'
export type { MediaRecord } from './media.js'
export { RoomArchivedError, RoomMissingError, type InsertResult } from './messages.js'
export { isStorageFull, isStorageLocked, whenUnlocked } from './failures.js'
export type * from './types.js'
export type { Store } from './store.js'
export { databaseTarget, type DatabaseTarget } from './url.js'

export interface StorageOptions extends OpenOptions, StoreOptions {}

/** The storage interface; the name callers have always used. */
export type Storage = Store

export function createStorage (db: Db, ring: FernetRing, options: StorageOptions = {}): Store {
  return createSqliteStore(db, ring, options)
}

/** The store DATABASE_URL picks, opened, key-checked and migrated: SQLite, or PostgreSQL (pg/). */
export async function openStore (target: DatabaseTarget, ring: FernetRing, options: StorageOptions = {}): Promise<Store> {
  if (target.kind === 'postgres') return await openPgStore(target.url, ring, options)
  return openStorage(target.path, ring, options)
}

/** A SQLite store on the file at `path` (created and migrated as needed). */
export function openStorage (path: string, ring: FernetRing, options: StorageOptions = {}): Store {
  return createSqliteStore(openDatabase(path, ring, options), ring, options)
}
