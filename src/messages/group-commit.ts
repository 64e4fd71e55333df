// Group commit: the sends that arrive in one turn of the event loop are written in one
// transaction (one fsync), then each caller gets its own result. With synchronous=FULL a commit
// per message caps durable throughput at the disk's fsync rate; this makes it a per-batch cost.

export type Outcome<O> = { ok: true, value: O } | { ok: false, error: unknown }

interface Pending<I, O> {
  item: I
  resolve: (value: O) => void
  reject: (error: unknown) => void
}

export interface GroupCommit<I, O> {
  submit: (item: I) => Promise<O>
  /** Writes whatever is queued now (at shutdown, before the database closes). */
  flush: () => void
  readonly pending: number
}

/**
 * @param commit writes a whole batch in one transaction and returns one outcome per item, in
 *   order. If it throws, the whole batch failed and every caller gets that error.
 */
export function createGroupCommit<I, O> (
  commit: (items: I[]) => Array<Outcome<O>>,
  { maxBatch = 256 }: { maxBatch?: number } = {}
): GroupCommit<I, O> {
  let queue: Array<Pending<I, O>> = []
  let scheduled = false

  function flush (): void {
    scheduled = false
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch)
      queue = queue.slice(batch.length)
      let outcomes: Array<Outcome<O>>
      try {
        outcomes = commit(batch.map((p) => p.item))
      } catch (error) {
        for (const p of batch) p.reject(error)
        continue
      }
      batch.forEach((p, i) => {
        const outcome = outcomes[i]
        if (outcome === undefined) p.reject(new Error('group commit returned too few outcomes'))
        else if (outcome.ok) p.resolve(outcome.value)
        else p.reject(outcome.error)
      })
    }
  }

  return {
    submit (item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        if (!scheduled) {
          scheduled = true
          // setImmediate runs after the I/O phase, so every frame read in this turn joins the batch.
          setImmediate(flush)
        }
      })
    },
    flush,
    get pending () {
      return queue.length
    }
  }
}
