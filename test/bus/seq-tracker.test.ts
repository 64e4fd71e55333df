// The per-room seq tracker, alone: a record (an array per room) and a feed the test controls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SeqTracker } from '../../src/bus/seq-tracker.js'

interface Item { seq: number, text: string }
const item = (seq: number): Item => ({ seq, text: `m${seq}` })

function setup ({ head = 0, gapMs = 100, asyncRecord = false } = {}) {
  const record = new Map<number, Item[]>()
  const delivered: Array<[number, number]> = []
  const fills: Array<[number, number]> = []
  const errors: unknown[] = []
  let failFills = 0
  const tracker = new SeqTracker<Item>({
    seqOf: (i) => i.seq,
    deliver: (roomId, i) => delivered.push([roomId, i.seq]),
    fill: (roomId, after) => {
      fills.push([roomId, after])
      if (failFills > 0) {
        failFills--
        return asyncRecord ? Promise.reject(new Error('record down')) : (() => { throw new Error('record down') })()
      }
      const items = (record.get(roomId) ?? []).filter((i) => i.seq > after)
      return asyncRecord ? Promise.resolve(items) : items
    },
    head: () => (asyncRecord ? Promise.resolve(head) : head),
    gapMs,
    onError: (error) => errors.push(error)
  })
  const commit = (roomId: number, ...seqs: number[]): Item[] => {
    const list = record.get(roomId) ?? []
    record.set(roomId, list)
    const items = seqs.map(item)
    list.push(...items)
    return items
  }
  return { tracker, record, delivered, fills, errors, commit, failNextFills: (n: number) => { failFills = n } }
}

const seqs = (delivered: Array<[number, number]>, roomId = 1): number[] => delivered.filter(([r]) => r === roomId).map(([, s]) => s)

describe('SeqTracker', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('delivers the next seq at once and drops old and repeated ones', () => {
    const { tracker, delivered, fills } = setup({ head: 4 })
    tracker.watch(1)
    expect(tracker.last(1)).toBe(4)
    for (const seq of [5, 6, 6, 3, 5, 7]) tracker.offer(1, item(seq))
    expect(seqs(delivered)).toEqual([5, 6, 7])
    expect(fills).toEqual([])
  })

  it('ignores rooms it does not watch, and forgets a room on unwatch', () => {
    const { tracker, delivered } = setup()
    tracker.offer(2, item(1))
    tracker.watch(2)
    tracker.offer(2, item(1))
    tracker.unwatch(2)
    tracker.offer(2, item(2))
    expect(delivered).toEqual([[2, 1]])
    expect(tracker.last(2)).toBeNull()
  })

  it('holds what comes past a gap and delivers it in order once the gap closes from the feed', () => {
    const { tracker, delivered, fills } = setup()
    tracker.watch(1)
    tracker.offer(1, item(3))
    tracker.offer(1, item(2))
    expect(seqs(delivered)).toEqual([])
    expect(tracker.held(1)).toBe(2)
    tracker.offer(1, item(1))
    expect(seqs(delivered)).toEqual([1, 2, 3])
    expect(tracker.held(1)).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(fills).toEqual([]) // the gap closed before its timer: the record was never asked
  })

  it('fills a gap from the record after gapMs, without doubling what it held', async () => {
    const { tracker, delivered, fills, commit } = setup({ gapMs: 100 })
    tracker.watch(1)
    const [m1, , , m4] = commit(1, 1, 2, 3, 4)
    tracker.offer(1, m1!)
    tracker.offer(1, m4!) // 2 and 3 were lost on the way
    await vi.advanceTimersByTimeAsync(99)
    expect(seqs(delivered)).toEqual([1])
    await vi.advanceTimersByTimeAsync(1)
    expect(fills).toEqual([[1, 1]])
    expect(seqs(delivered)).toEqual([1, 2, 3, 4])
    tracker.offer(1, item(4)) // late copy
    tracker.offer(1, item(3))
    expect(seqs(delivered)).toEqual([1, 2, 3, 4])
  })

  it('keeps rooms apart', async () => {
    const { tracker, delivered, commit } = setup()
    tracker.watch(1)
    tracker.watch(2)
    commit(2, 1, 2)
    tracker.offer(2, item(2))
    tracker.offer(1, item(1))
    expect(delivered).toEqual([[1, 1]])
    await vi.advanceTimersByTimeAsync(100)
    expect(delivered).toEqual([[1, 1], [2, 1], [2, 2]])
  })

  it('starts a room from its head: what is older is never delivered, what follows is', async () => {
    const { tracker, delivered } = setup({ head: 10, asyncRecord: true })
    tracker.watch(1)
    expect(tracker.last(1)).toBeNull()
    tracker.offer(1, item(11)) // arrives while the head is asked: held
    tracker.offer(1, item(9))
    await vi.advanceTimersByTimeAsync(0)
    expect(tracker.last(1)).toBe(11)
    expect(seqs(delivered)).toEqual([11])
  })

  it('poke fills at once (after the feed was cut off), and catches up with everything missed', async () => {
    const { tracker, delivered, fills, commit } = setup({ asyncRecord: true })
    tracker.watch(1)
    await vi.advanceTimersByTimeAsync(0)
    commit(1, 1, 2, 3)
    tracker.poke(1)
    tracker.poke(1) // while the first fill runs: one more fill after it, never two at once
    await vi.advanceTimersByTimeAsync(0)
    expect(seqs(delivered)).toEqual([1, 2, 3])
    expect(fills).toEqual([[1, 0], [1, 3]])
  })

  it('an item that arrives during a fill is delivered once, in order', async () => {
    const { tracker, delivered, commit } = setup({ asyncRecord: true })
    tracker.watch(1)
    await vi.advanceTimersByTimeAsync(0)
    commit(1, 1, 2)
    tracker.poke(1)
    tracker.offer(1, item(1)) // the feed is faster than the record here
    tracker.offer(1, item(3))
    commit(1, 3)
    await vi.advanceTimersByTimeAsync(0)
    expect(seqs(delivered)).toEqual([1, 2, 3])
  })

  it('delivers what the record has even where its numbers skip (ids, not seqs)', async () => {
    const { tracker, delivered, commit } = setup({ asyncRecord: true })
    tracker.watch(1)
    await vi.advanceTimersByTimeAsync(0)
    commit(1, 4, 9, 15)
    tracker.poke(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(seqs(delivered)).toEqual([4, 9, 15])
    expect(tracker.last(1)).toBe(15)
  })

  it('a failed fill is tried again after gapMs, and nothing is lost', async () => {
    const { tracker, delivered, errors, commit, failNextFills } = setup({ asyncRecord: true, gapMs: 50 })
    tracker.watch(1)
    await vi.advanceTimersByTimeAsync(0)
    commit(1, 1, 2)
    failNextFills(1)
    tracker.offer(1, item(2))
    await vi.advanceTimersByTimeAsync(50)
    expect(errors).toHaveLength(1)
    expect(seqs(delivered)).toEqual([])
    await vi.advanceTimersByTimeAsync(50)
    expect(seqs(delivered)).toEqual([1, 2])
  })

  it('drops a fill that answers after the room was unwatched', async () => {
    const { tracker, delivered, commit } = setup({ asyncRecord: true })
    tracker.watch(1)
    await vi.advanceTimersByTimeAsync(0)
    commit(1, 1)
    tracker.poke(1)
    tracker.unwatch(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(delivered).toEqual([])
  })

  it('converges on the record under loss and reordering: each seq once, in order', async () => {
    const { tracker, delivered, commit } = setup({ gapMs: 20 })
    tracker.watch(1)
    const items = commit(1, ...Array.from({ length: 200 }, (_, i) => i + 1))
    // A feed that drops every seventh item, sends every fifth twice and swaps neighbours.
    let random = 12345
    const next = (): number => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < items.length; i++) {
      if (i % 7 === 3) continue
      const a = items[i]!
      const b = items[i + 1]
      if (b !== undefined && next() < 0.3) {
        tracker.offer(1, b)
        tracker.offer(1, a)
        i++
      } else {
        tracker.offer(1, a)
      }
      if (i % 5 === 0) tracker.offer(1, a)
      await vi.advanceTimersByTimeAsync(1)
    }
    await vi.advanceTimersByTimeAsync(100)
    expect(seqs(delivered)).toEqual(items.map((i) => i.seq))
  })
})
