// `npm run reindex`: rebuilds the search index from the messages themselves: empties it, then
// indexes every message under the current key (the first in ENCRYPTION_KEY), in batches. Safe
// beside a running server (its new sends are indexed as they come; searches find less until the
// rebuild is done) and safe to interrupt: the server's background indexing finishes the rest.
//
// Options: --batch-size N messages per transaction (default 500); --pause-ms N between batches (default 0).
import { FernetRing } from '../crypto/fernet.js'
import { indexMessages } from '../search/backfill.js'
import { SearchKeys } from '../search/tokens.js'
import { openExisting } from '../storage/maintenance.js'
import { openPgStore } from '../storage/pg/index.js'
import { createSqliteStore } from '../storage/sqlite-store.js'
import type { Store } from '../storage/store.js'
import { fail, intFlag, loadSettings } from './common.js'

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const batchSize = Math.max(1, intFlag(args, 'batch-size', 500))
  const pauseMs = intFlag(args, 'pause-ms', 0)
  const config = loadSettings()
  const ring = new FernetRing(config.encryptionKeys)
  const store: Store = config.database.kind === 'postgres'
    ? await openPgStore(config.database.url, ring, { max: 2 })
    : createSqliteStore(openExisting(config.databasePath, ring), ring)
  try {
    const keys = new SearchKeys(ring)
    await store.search.reset(keys.fingerprint())
    const { total } = await store.search.progress()
    console.log(`Rebuilding the search index: ${total} messages.`)
    let last = 0
    const written = await indexMessages(store, keys, {
      batchSize,
      pauseMs,
      onBatch: (done) => {
        if (done - last < 10_000 && done < total) return
        last = done
        console.log(`search index: ${done}/${total} messages indexed`)
      }
    })
    console.log(`Done: ${written} messages indexed.`)
  } finally {
    await store.close()
  }
}

main().catch((error: unknown) => fail('reindex', error))
