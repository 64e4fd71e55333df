// bcrypt on worker threads: a burst of logins must not stall message delivery for everyone else.
// bcryptjs is pure JS, so on the main thread each hash would block the event loop for ~200 ms.
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { AppError } from '../errors.js'

// An eval'd worker resolves modules from the working directory, so hand it the exact path.
const BCRYPTJS = createRequire(import.meta.url).resolve('bcryptjs')

// Inline worker source: works the same under tsx, vitest and the compiled build, with no second file to ship.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const bcrypt = require(workerData.bcryptjs)
// Lowest CPU priority for this thread only (Linux: a thread id is a valid setpriority target), so
// a burst of logins takes CPU the event loop does not need instead of competing with it.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop())
  if (Number.isSafeInteger(tid) && tid > 0) require('node:os').setPriority(tid, 19)
} catch {}
parentPort.on('message', ({ id, op, password, hash, cost }) => {
  try {
    const result = op === 'hash' ? bcrypt.hashSync(password, cost) : bcrypt.compareSync(password, hash)
    parentPort.postMessage({ id, result })
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) })
  }
})
`

interface Job {
  id: number
  op: 'hash' | 'compare'
  password: string
  hash?: string
  cost?: number
}

interface Slot {
  worker: Worker
  /** The job it is running, if any. */
  job: number | null
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  verify: (password: string, hash: string) => Promise<boolean>
  /** Verifies against a throwaway hash of the same cost, so unknown users cost what known ones do. */
  verifyNobody: (password: string) => Promise<false>
  close: () => Promise<void>
}

/** Hashing jobs that may wait for a thread; beyond it a burst of logins is turned away, not queued for minutes. */
export const MAX_WAITING = 64

export function createPasswordHasher ({ cost, threads = Math.max(1, Math.min(2, availableParallelism() - 1)), maxWaiting = MAX_WAITING }:
{ cost: number, threads?: number, maxWaiting?: number }): PasswordHasher {
  const slots: Slot[] = []
  const queue: Job[] = []
  const waiting = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
  let nextId = 1
  let closed = false

  function spawn (): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: BCRYPTJS } }), job: null }
    slot.worker.unref()
    slot.worker.on('message', ({ id, result, error }: { id: number, result?: unknown, error?: string }) => {
      slot.job = null
      const pending = waiting.get(id)
      waiting.delete(id)
      if (error !== undefined) pending?.reject(new Error(error))
      else pending?.resolve(result)
      pump()
    })
    slot.worker.on('error', (error) => {
      // A dead worker fails its job, then is replaced.
      if (slot.job !== null) waiting.get(slot.job)?.reject(error)
      if (slot.job !== null) waiting.delete(slot.job)
      slots.splice(slots.indexOf(slot), 1)
      if (!closed) slots.push(spawn())
      pump()
    })
    return slot
  }

  function pump (): void {
    for (const slot of slots) {
      if (queue.length === 0) return
      if (slot.job !== null) continue
      const job = queue.shift()!
      slot.job = job.id
      slot.worker.postMessage(job)
    }
  }

  function run<T> (job: Omit<Job, 'id'>): Promise<T> {
    if (closed) return Promise.reject(new Error('password hasher is closed'))
    if (queue.length >= maxWaiting) {
      return Promise.reject(new AppError('unavailable', 'The server is busy checking passwords; try again in a few seconds.',
        undefined, { 'Retry-After': '5' }))
    }
    if (slots.length === 0) for (let i = 0; i < threads; i++) slots.push(spawn())
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      queue.push({ ...job, id })
      pump()
    })
  }

  let dummyHash: Promise<string> | undefined
  const hash = (password: string) => run<string>({ op: 'hash', password, cost })
  const verify = (password: string, hash: string) => run<boolean>({ op: 'compare', password, hash })

  return {
    hash,
    verify,
    async verifyNobody (password: string): Promise<false> {
      // Made on first use; a refusal (queue full) is not kept, or unknown names would answer
      // differently from known ones from then on.
      dummyHash ??= hash('not a real password, only for timing').catch((error: unknown) => {
        dummyHash = undefined
        throw error
      })
      await verify(password, await dummyHash)
      return false
    },
    async close () {
      closed = true
      await Promise.all(slots.map((slot) => slot.worker.terminate()))
      slots.length = 0
      for (const pending of waiting.values()) pending.reject(new Error('password hasher is closed'))
      waiting.clear()
    }
  }
}
