import { describe, expect, it } from 'vitest'
import { createGroupCommit, type GroupCommit } from '../../src/messages/group-commit.js'
import type { Outcome } from '../../src/storage/types.js'

describe('group commit', () => {
  it('commits the items submitted in one turn together, in order', async () => {
    const batches: number[][] = []
    const commit = createGroupCommit<number, number>((items) => {
      batches.push(items)
      return items.map((n): Outcome<number> => ({ ok: true, value: n * 10 }))
    })
    const results = await Promise.all([1, 2, 3].map((n) => commit.submit(n)))
    expect(results).toEqual([10, 20, 30])
    expect(batches).toEqual([[1, 2, 3]])
    await commit.submit(4)
    expect(batches).toEqual([[1, 2, 3], [4]])
  })

  it('with an asynchronous commit (PostgreSQL), sends that arrive while one batch commits form the next one together', async () => {
    const batches: number[][] = []
    const releases: Array<() => void> = []
    const commit = createGroupCommit<number, number>(async (items) => {
      batches.push(items)
      await new Promise<void>((resolve) => releases.push(resolve))
      return items.map((n): Outcome<number> => ({ ok: true, value: n }))
    })
    const first = commit.submit(1)
    await new Promise((resolve) => setImmediate(resolve))
    expect(batches).toEqual([[1]])
    // Over several turns of the event loop, while [1] is still committing.
    const later: Array<Promise<number>> = []
    for (const n of [2, 3, 4]) {
      later.push(commit.submit(n))
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(batches).toEqual([[1]])
    releases.shift()!()
    await expect(first).resolves.toBe(1)
    await new Promise((resolve) => setImmediate(resolve))
    expect(batches).toEqual([[1], [2, 3, 4]])
    releases.shift()!()
    await expect(Promise.all(later)).resolves.toEqual([2, 3, 4])
  })

  it('fails one item alone when its outcome is an error', async () => {
    const commit = createGroupCommit<number, number>((items) =>
      items.map((n): Outcome<number> => n === 2 ? { ok: false, error: new Error('two') } : { ok: true, value: n }))
    const results = await Promise.allSettled([1, 2, 3].map((n) => commit.submit(n)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })

  it('fails the whole batch when the commit throws', async () => {
    const commit = createGroupCommit<number, number>(() => { throw new Error('disk full') })
    const results = await Promise.allSettled([1, 2].map((n) => commit.submit(n)))
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'disk full')).toBe(true)
  })

  it('splits large groups at maxBatch', async () => {
    const sizes: number[] = []
    const commit = createGroupCommit<number, number>((items) => {
      sizes.push(items.length)
      return items.map((n) => ({ ok: true, value: n }))
    }, { maxBatch: 4 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => commit.submit(i)))
    expect(sizes).toEqual([4, 4, 2])
  })

  it('flushes on demand, before the scheduled turn', async () => {
    let committed = 0
    const commit = createGroupCommit<number, number>((items) => {
      committed += items.length
      return items.map((n) => ({ ok: true, value: n }))
    })
    const pending = commit.submit(1)
    expect(commit.pending).toBe(1)
    commit.flush()
    expect(committed).toBe(1)
    await expect(pending).resolves.toBe(1)
  })

  describe('background items', () => {
    const isBackground = (n: number): boolean => n >= 100

    /** A group commit that records its batches and answers each item with itself. */
    const recording = (maxBackground: number): { batches: number[][], commit: GroupCommit<number, number> } => {
      const batches: number[][] = []
      const commit = createGroupCommit<number, number>((items) => {
        batches.push(items)
        return items.map((n) => ({ ok: true, value: n }))
      }, { isBackground, maxBackground })
      return { batches, commit }
    }

    it('go after the foreground ones, at most maxBackground per batch; the rest wait for a later turn', async () => {
      const { batches, commit } = recording(2)
      const order: number[] = []
      const submit = (n: number): Promise<number> => commit.submit(n).then((value) => { order.push(value); return value })
      const first = [100, 101, 102, 1, 103, 2, 104].map(submit)
      // A turn later (the first batch has committed), a foreground item still goes before the background ones waiting.
      await new Promise((resolve) => setImmediate(resolve))
      const late = submit(3)
      await Promise.all([...first, late])
      expect(batches[0]).toEqual([1, 2, 100, 101])
      expect(batches.slice(1)).toEqual([[3, 102, 103], [104]])
      expect(order).toEqual([1, 2, 100, 101, 3, 102, 103, 104])
    })

    it('the batch after a full one of background items waits for the next turn', async () => {
      const { batches, commit } = recording(1)
      const done = Promise.all([100, 101, 102].map(async (n) => commit.submit(n)))
      await new Promise((resolve) => setImmediate(resolve))
      expect(batches).toEqual([[100]])
      await done
      expect(batches).toEqual([[100], [101], [102]])
    })

    describe('backgroundShare: a storm of background items takes that share of the time', () => {
      /** A commit that costs `ms` of the event loop per batch, and records when each batch ran. */
      const costly = (ms: number, batches: Array<{ items: number[], start: number, end: number }>) => (items: number[]) => {
        const start = performance.now()
        while (performance.now() - start < ms) { /* the batch's work */ }
        batches.push({ items, start, end: performance.now() })
        return items.map((n) => ({ ok: true as const, value: n }))
      }

      it('after a batch that left some behind, the next waits until the last one was that share of the time', async () => {
        const batches: Array<{ items: number[], start: number, end: number }> = []
        const commit = createGroupCommit<number, number>(costly(20, batches), { isBackground, maxBackground: 1, backgroundShare: 0.5 })
        await Promise.all([100, 101, 102].map(async (n) => commit.submit(n)))
        expect(batches.map((b) => b.items)).toEqual([[100], [101], [102]])
        // 20 ms of work at a share of one half: at least 20 ms of pause before each next batch.
        for (const [before, after] of [[0, 1], [1, 2]] as const) {
          expect(batches[after]!.start - batches[before]!.end).toBeGreaterThanOrEqual(18)
        }
      })

      it('a foreground item never waits for the pause; the background ones still do', async () => {
        const batches: Array<{ items: number[], start: number, end: number }> = []
        // A pause of 99 × 10 ms after the first batch.
        const commit = createGroupCommit<number, number>(costly(10, batches), { isBackground, maxBackground: 1, backgroundShare: 0.01 })
        const background = Promise.all([100, 101].map(async (n) => commit.submit(n)))
        await new Promise((resolve) => setTimeout(resolve, 30))
        expect(batches.map((b) => b.items)).toEqual([[100]])
        const sent = performance.now()
        await commit.submit(1)
        expect(performance.now() - sent).toBeLessThan(500)
        expect(batches.map((b) => b.items)).toEqual([[100], [1]])
        await background
        expect(batches.map((b) => b.items)).toEqual([[100], [1], [101]])
        expect(batches[2]!.start - batches[0]!.end).toBeGreaterThanOrEqual(900)
      })

      it('counts the event loop\'s work, not the wait for a database across the network', async () => {
        const batches: number[][] = []
        const commit = createGroupCommit<number, number>(async (items) => {
          batches.push(items)
          await new Promise((resolve) => setTimeout(resolve, 30)) // PostgreSQL's round trip: the loop is idle
          return items.map((n) => ({ ok: true as const, value: n }))
        }, { isBackground, maxBackground: 1, backgroundShare: 0.01 })
        const started = performance.now()
        await Promise.all([100, 101, 102].map(async (n) => commit.submit(n)))
        expect(batches).toEqual([[100], [101], [102]])
        expect(performance.now() - started).toBeLessThan(1000) // paused by the wall clock: 2 × 99 × 30 ms
      })

      it('flush does not wait for a pause', async () => {
        const batches: Array<{ items: number[], start: number, end: number }> = []
        const commit = createGroupCommit<number, number>(costly(10, batches), { isBackground, maxBackground: 1, backgroundShare: 0.001 })
        const all = Promise.all([100, 101, 102].map(async (n) => commit.submit(n)))
        await new Promise((resolve) => setTimeout(resolve, 30)) // [100] committed; a 10 s pause begun
        const started = performance.now()
        await commit.flush()
        expect(performance.now() - started).toBeLessThan(2000)
        await expect(all).resolves.toEqual([100, 101, 102])
      })

      it('items that all fit in one batch are never paused', async () => {
        const batches: Array<{ items: number[], start: number, end: number }> = []
        const commit = createGroupCommit<number, number>(costly(10, batches), { isBackground, maxBackground: 4, backgroundShare: 0.01 })
        await Promise.all([100, 101].map(async (n) => commit.submit(n)))
        const sent = performance.now()
        await Promise.all([102, 103].map(async (n) => commit.submit(n)))
        expect(performance.now() - sent).toBeLessThan(500) // a pause would be 990 ms
        expect(batches.map((b) => b.items)).toEqual([[100, 101], [102, 103]])
      })
    })

    it('flush commits them all, batch after batch', async () => {
      let committed = 0
      const commit = createGroupCommit<number, number>((items) => {
        committed += items.length
        return items.map((n) => ({ ok: true, value: n }))
      }, { isBackground, maxBackground: 2 })
      const all = Promise.all([100, 101, 102, 103, 104].map(async (n) => commit.submit(n)))
      await commit.flush()
      expect(committed).toBe(5)
      expect(commit.pending).toBe(0)
      await expect(all).resolves.toEqual([100, 101, 102, 103, 104])
    })
  })

  describe('while another connection holds the lock', () => {
    const locked = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
    const isLocked = (error: unknown): boolean => error === locked

    it('keeps the batch queued and tries again later; sends arriving meanwhile join it; nothing is lost', async () => {
      const batches: number[][] = []
      let lockedFor = 3
      const commit = createGroupCommit<number, number>((items) => {
        if (lockedFor-- > 0) throw locked
        batches.push(items)
        return items.map((n) => ({ ok: true, value: n }))
      }, { isLocked, lockWaitMs: 10_000 })
      const first = commit.submit(1)
      // The first try runs from setImmediate: wait for it (a timer could fire before it on a busy machine).
      for (let turns = 0; turns < 100 && lockedFor === 3; turns++) await new Promise((resolve) => setImmediate(resolve))
      expect(lockedFor).toBeLessThan(3) // the first try has met the lock
      const second = commit.submit(2)
      expect(await Promise.all([first, second])).toEqual([1, 2])
      expect(batches).toEqual([[1, 2]])
    })

    it('refuses a send with lockTimeout once it has waited lockWaitMs, and stops trying', async () => {
      let tries = 0
      const refused = new Error('refused: locked')
      const commit = createGroupCommit<number, number>(() => { tries++; throw locked }, { isLocked, lockWaitMs: 50, lockTimeout: () => refused })
      await expect(commit.submit(1)).rejects.toBe(refused)
      expect(tries).toBeGreaterThan(1)
      expect(commit.pending).toBe(0)
      const settled = tries
      await new Promise((resolve) => setTimeout(resolve, 250))
      expect(tries).toBe(settled)
    })

    it('at shutdown (flush) refuses what the lock keeps out instead of waiting', async () => {
      const refused = new Error('refused: locked')
      const commit = createGroupCommit<number, number>(() => { throw locked }, { isLocked, lockWaitMs: 60_000, lockTimeout: () => refused })
      const pending = commit.submit(1)
      commit.flush()
      await expect(pending).rejects.toBe(refused)
    })
  })
})
