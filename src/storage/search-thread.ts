// The search index's writer thread (search-writer.ts starts it): one connection to the database,
// for reading only, with the index file attached, which only this thread writes. It takes one
// request at a time, in the order sent, so an edit's tokens never overtake the send's.
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'
import { SearchKeys } from '../search/tokens.js'
import { attachIndex, createIndexWriter, type IndexOp } from './search-index.js'

export interface ThreadData { databasePath: string, indexPath: string, key: Uint8Array }
export interface Request { id: number, op: IndexOp | 'close', args: unknown[] }
export type Reply = { id: number, value: unknown } | { id: number, error: { message: string, code?: string } }

const { databasePath, indexPath, key } = workerData as ThreadData
const db = new Database(databasePath)
// Waiting for a lock is harmless here (this thread is nobody's event loop): a checkpoint, or a
// backup holding the index file, is waited out.
db.pragma('busy_timeout = 5000')
attachIndex(db, indexPath)
// Freed pages of the index held keyed hashes of deleted messages' words: zeroed, not left.
db.pragma('search.secure_delete = ON')
// Rebuildable, so not worth an fsync per write: with WAL, NORMAL can lose the last commits in a
// power loss, never the file; the next start's backfill writes what was lost.
db.pragma('search.synchronous = NORMAL')
const writer = createIndexWriter(db, new SearchKeys(key))
const port = parentPort!

port.on('message', ({ id, op, args }: Request) => {
  if (op === 'close') {
    // Closing the last connection checkpoints the index's WAL and removes it.
    db.close()
    port.postMessage({ id, value: null } satisfies Reply)
    port.close()
    return
  }
  let reply: Reply
  try {
    reply = { id, value: (writer[op] as (...a: unknown[]) => unknown)(...args) }
  } catch (error) {
    const e = error as { message?: unknown, code?: unknown }
    reply = { id, error: { message: String(e.message ?? error), ...(typeof e.code === 'string' ? { code: e.code } : {}) } }
  }
  port.postMessage(reply)
})
