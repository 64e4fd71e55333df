// Writing the search index from the event loop's side: each write is a request to the index
// thread (search-thread.ts), answered in the order sent. The thread starts at the first write and
// again after it died. An in-memory database has no file another thread could open: there the
// same writer runs on the connection itself.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { SearchKeys } from '../search/tokens.js'
import type { Db } from './database.js'
import { createIndexWriter, type IndexOp, type IndexWriter } from './search-index.js'
import type { Reply, Request, ThreadData } from './search-thread.js'

export type IndexWrites = { [K in IndexOp]: (...args: Parameters<IndexWriter[K]>) => Promise<ReturnType<IndexWriter[K]>> } & {
  /** Settles once every write sent so far is answered (written or failed): what reads wait for. */
  settled: () => Promise<void>
  /** Waits for the writes sent so far, then stops the thread. */
  close: () => Promise<void>
}

/** Every write the writer has (the compiler checks the list is whole). */
const OPS = Object.keys({ fresh: true, replace: true, remove: true, write: true, reset: true, tidy: true } satisfies Record<IndexOp, true>) as IndexOp[]

/** A failure in the thread, with SQLite's code kept (storage/failures.ts tells a full disk by it). */
class IndexWriteError extends Error {
  constructor (message: string, readonly code?: string) {
    super(message)
    this.name = 'IndexWriteError'
  }
}

/** The thread's module: compiled JavaScript in dist; under tsx or vitest (src, TypeScript) through tsx. */
function spawn (data: ThreadData): Worker {
  const file = new URL(import.meta.url.endsWith('.ts') ? './search-thread.ts' : './search-thread.js', import.meta.url)
  if (file.pathname.endsWith('.js')) return new Worker(file, { workerData: data })
  // tsx's ESM entry, found from here: the thread's code is evaluated, not a file, so a bare name would resolve from the cwd.
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json')
  const api = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default
  const tsx = pathToFileURL(join(dirname(manifest), api)).href
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}) })`
  return new Worker(code, { eval: true, workerData: data })
}

export function threadWrites (databasePath: string, indexPath: string, keys: SearchKeys): IndexWrites {
  let worker: Worker | null = null
  let closed = false
  let next = 0
  const waiting = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()

  const failAll = (error: Error): void => {
    for (const w of waiting.values()) w.reject(error)
    waiting.clear()
  }
  function thread (): Worker {
    if (worker !== null) return worker
    const w = spawn({ databasePath, indexPath, key: keys.key() })
    // An idle thread does not keep the process alive (the process's own exit need not wait for
    // it: what it had not written, the next start's backfill writes); one with requests does.
    w.unref()
    w.on('message', (reply: Reply) => {
      const entry = waiting.get(reply.id)
      if (entry === undefined) return
      waiting.delete(reply.id)
      if (waiting.size === 0 && !closed) w.unref()
      if ('error' in reply) entry.reject(new IndexWriteError(reply.error.message, reply.error.code))
      else entry.resolve(reply.value)
    })
    w.on('error', (error) => { if (worker === w) worker = null; failAll(error) })
    w.on('exit', () => {
      if (worker === w) worker = null
      failAll(new IndexWriteError('the search index thread stopped'))
    })
    worker = w
    return w
  }
  // Answers come in the order asked: the last request's answer settles all before it.
  let last: Promise<unknown> = Promise.resolve()
  const call = async (op: Request['op'], args: unknown[]): Promise<unknown> => {
    const answer = new Promise((resolve, reject) => {
      if (closed && op !== 'close') throw new IndexWriteError('the search index is closed')
      const id = next++
      waiting.set(id, { resolve, reject })
      const w = thread()
      w.ref()
      w.postMessage({ id, op, args } satisfies Request)
    })
    last = answer.catch(() => {})
    return await answer
  }

  const writes = Object.fromEntries(OPS.map((op) => [op, async (...args: unknown[]) => await call(op, args)])) as Omit<IndexWrites, 'close'>
  return {
    ...writes,
    settled: async () => { await last },
    async close () {
      closed = true
      const w = worker
      if (w === null) return
      w.ref()
      const exited = new Promise((resolve) => w.once('exit', resolve))
      await call('close', []).catch(() => {})
      await exited
    }
  }
}

export function inlineWrites (db: Db, keys: SearchKeys): IndexWrites {
  const writer = createIndexWriter(db, keys)
  const writes = Object.fromEntries(OPS.map((op) => [op, async (...args: unknown[]) => (writer[op] as (...a: unknown[]) => unknown)(...args)])) as Omit<IndexWrites, 'close'>
  return { ...writes, settled: async () => {}, close: async () => {} }
}
