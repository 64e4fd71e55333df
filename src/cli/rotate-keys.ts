// `npm run rotate-keys`: re-encrypts every stored message (and upload name) with the first key in
// ENCRYPTION_KEY, then marks the database as readable by that key alone. Safe to interrupt and to
// rerun; safe beside a running server that has the same keys ("new,old").
//
//   1. ENCRYPTION_KEY="new,old", restart the server     2. npm run rotate-keys
//   3. ENCRYPTION_KEY="new", restart the server
//
// The search index's tokens are keyed by the first key too: when it was made with another, it is
// emptied and rebuilt here (a server already restarted on "new,old" has begun that itself).
//
// Options: --batch-size N rows per transaction (default 500); --pause-ms N between batches
// (default 0), to leave a busy server more room. On PostgreSQL the whole rotation is one
// transaction (--batch-size is then rows per statement): it commits whole or not at all.
import { setTimeout as delay } from 'node:timers/promises'
import { FernetRing } from '../crypto/fernet.js'
import { indexMessages, resetIfKeyChanged } from '../search/backfill.js'
import { SearchKeys } from '../search/tokens.js'
import { createRotation, MaintenanceError, openExisting } from '../storage/maintenance.js'
import { createSqliteStore } from '../storage/sqlite-store.js'
import { openPgStore } from '../storage/pg/index.js'
import { openPgExisting, rotatePg } from '../storage/pg/maintenance.js'
import type { Store } from '../storage/store.js'
import { fail, intFlag, loadSettings } from './common.js'

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const batchSize = Math.max(1, intFlag(args, 'batch-size', 500))
  const pauseMs = intFlag(args, 'pause-ms', 0)
  const config = loadSettings()
  const ring = new FernetRing(config.encryptionKeys)
  if (config.database.kind === 'postgres') {
    await rotateOnPostgres(config.database.url, ring, new FernetRing(config.encryptionKeys.slice(0, 1)), batchSize, pauseMs)
    return
  }
  const db = openExisting(config.databasePath, ring)
  try {
    const rotation = createRotation(db, ring)
    const totals = rotation.totals()
    console.log(`Re-encrypting with the first of ${ring.size} key(s): ${totals.messages} messages and ${totals.media} uploads to check.`)

    let checked = 0
    let rotated = 0
    for (let next: number | string | null = 0; next !== null;) {
      const batch = rotation.messageBatch(next as number, batchSize)
      checked += batch.checked
      rotated += batch.rotated
      next = batch.next
      console.log(`messages: ${checked}/${totals.messages} checked, ${rotated} re-encrypted`)
      if (next !== null && pauseMs > 0) await delay(pauseMs)
    }
    let mediaRotated = 0
    for (let next: number | string | null = ''; next !== null;) {
      const batch = rotation.mediaBatch(next as string, batchSize)
      mediaRotated += batch.rotated
      next = batch.next
      if (next !== null && pauseMs > 0) await delay(pauseMs)
    }
    if (totals.media > 0) console.log(`uploads: ${mediaRotated} names re-encrypted`)

    // Prove it before the key check says so: every row must open with the first key alone.
    const bad = rotation.unreadableWithFirstKey(new FernetRing(config.encryptionKeys.slice(0, 1)))
    if (bad.length > 0) throw new MaintenanceError(`Not done: the first key alone cannot read ${bad.join(', ')}. Run rotate-keys again.`)
    rotation.refreshKeyCheck()

    const store = createSqliteStore(db, ring)
    try {
      await rebuildSearchIndex(store, ring, batchSize, pauseMs)
    } finally {
      await store.close() // its index thread, and the database
    }
    console.log(`Done: ${rotated} messages and ${mediaRotated} upload names re-encrypted; every row reads with the first key alone.` +
      (ring.size > 1 ? ' You can now remove the other key(s) from ENCRYPTION_KEY and restart the server.' : ''))
  } finally {
    if (db.open) db.close()
  }
}

/** The search index's tokens are keyed by the first key: made again under it (a no-op when they already are). */
async function rebuildSearchIndex (store: Store, ring: FernetRing, batchSize: number, pauseMs: number): Promise<void> {
  const keys = new SearchKeys(ring)
  const rebuilt = await resetIfKeyChanged(store, keys)
  const indexed = await indexMessages(store, keys, { batchSize, pauseMs })
  console.log(rebuilt ? `search index: rebuilt under the first key, ${indexed} messages indexed` : `search index: already under the first key; ${indexed} missing messages indexed`)
}

/** One transaction (pg/maintenance.ts): all of it or none, so there is nothing to carry on from. */
async function rotateOnPostgres (url: string, ring: FernetRing, firstOnly: FernetRing, batchSize: number, pauseMs: number): Promise<void> {
  const sql = await openPgExisting(url, ring)
  try {
    if (pauseMs > 0) console.log('--pause-ms is not used on PostgreSQL: the rotation is one transaction, and pausing would only hold it open longer.')
    console.log(`Re-encrypting with the first of ${ring.size} key(s), in one transaction …`)
    const result = await rotatePg(sql, ring, firstOnly, {
      batchSize,
      onProgress: ({ checked, total, rotated }) => console.log(`messages: ${checked}/${total} checked, ${rotated} re-encrypted`)
    })
    if (result.media.total > 0) console.log(`uploads: ${result.media.rotated} names re-encrypted`)
    const store = await openPgStore(url, ring, { max: 2 })
    try {
      await rebuildSearchIndex(store, ring, batchSize, 0)
    } finally {
      await store.close()
    }
    console.log(`Done: ${result.messages.rotated} messages and ${result.media.rotated} upload names re-encrypted; every row reads with the first key alone.` +
      (ring.size > 1 ? ' You can now remove the other key(s) from ENCRYPTION_KEY and restart the server.' : ''))
  } finally {
    await sql.end({ timeout: 5 })
  }
}

main().catch((error: unknown) => fail('rotate-keys', error))
