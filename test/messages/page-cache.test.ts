// The history page cache: served only at the seq it was read at, bounded by bytes (least recently
// used out first), a room's pages dropped at once, and a page read across a drop never stored.
import { describe, expect, it } from 'vitest'
import { PageCache, splitPlaintextBudget } from '../../src/messages/page-cache.js'

const bytes = (text: string): Buffer => Buffer.from(text)
/** A page read twice: the second read keeps it (see the first test). */
const put = (pages: PageCache, roomId: number, seq: number, query: string, body: Buffer, ticket: number): void => {
  pages.set(roomId, seq, query, body, ticket)
  pages.set(roomId, seq, query, body, ticket)
}

describe('PageCache', () => {
  it('keeps a page from its second read on: one read once (paging back through old history) is not kept', () => {
    const pages = new PageCache(1 << 20)
    pages.set(1, 7, '50  ', bytes('page at 7'), 0)
    expect(pages.get(1, 7, '50  ')).toBeUndefined()
    expect(pages.stats).toEqual({ pages: 0, bytes: 0 })
    pages.set(1, 7, '50  ', bytes('page at 7'), 0)
    expect(pages.get(1, 7, '50  ')?.toString()).toBe('page at 7')
    // Read again at a later seq (the room moved on): still a page people read, kept at once.
    pages.set(1, 8, '50  ', bytes('page at 8'), 0)
    expect(pages.get(1, 8, '50  ')?.toString()).toBe('page at 8')
  })

  it('answers a page only at the seq it was read at; an older one is dropped when met', () => {
    const pages = new PageCache(1 << 20)
    put(pages, 1, 7, '50  ', bytes('page at 7'), pages.ticket(1))
    expect(pages.get(1, 7, '50  ')?.toString()).toBe('page at 7')
    expect(pages.get(1, 7, '50 100 ')).toBeUndefined() // another query
    expect(pages.get(2, 7, '50  ')).toBeUndefined() // another room
    expect(pages.get(1, 8, '50  ')).toBeUndefined() // the room moved on
    expect(pages.stats.pages).toBe(0)
    expect(pages.stats.bytes).toBe(0)
    expect(pages.get(1, 7, '50  ')).toBeUndefined()
  })

  it('drops every page of a room at once, and refuses a page read across the drop', () => {
    const pages = new PageCache(1 << 20)
    const ticket = pages.ticket(1)
    put(pages, 1, 3, 'a', bytes('one'), ticket)
    put(pages, 1, 3, 'b', bytes('two'), ticket)
    put(pages, 2, 3, 'a', bytes('other room'), pages.ticket(2))
    expect(pages.stats.pages).toBe(3)
    pages.dropRoom(1)
    expect(pages.stats.pages).toBe(1)
    expect(pages.get(1, 3, 'a')).toBeUndefined()
    expect(pages.get(2, 3, 'a')?.toString()).toBe('other room')
    // A request that took its ticket before the drop (and so may have read the dropped text) stores nothing.
    put(pages, 1, 3, 'a', bytes('read before the drop'), ticket)
    expect(pages.get(1, 3, 'a')).toBeUndefined()
    put(pages, 1, 4, 'a', bytes('read after'), pages.ticket(1))
    expect(pages.get(1, 4, 'a')?.toString()).toBe('read after')
  })

  it('stays under its byte bound, least recently used out first; a page too large for it is not kept', () => {
    const page = bytes('x'.repeat(1000))
    const pages = new PageCache(10 * 1200)
    put(pages, 1, 1, 'warm', page, 0)
    for (let i = 0; i < 30; i++) {
      expect(pages.get(1, 1, 'warm')).toBeDefined() // kept warm: never the least recently used
      put(pages, 100 + i, 1, 'q', page, 0)
    }
    expect(pages.stats.bytes).toBeLessThanOrEqual(10 * 1200)
    expect(pages.stats.pages).toBeLessThan(12)
    expect(pages.get(1, 1, 'warm')).toBeDefined()
    expect(pages.get(100, 1, 'q')).toBeUndefined() // the oldest went first
    expect(pages.get(129, 1, 'q')).toBeDefined()
    put(pages, 2, 1, 'huge', bytes('y'.repeat(5000)), 0)
    expect(pages.get(2, 1, 'huge')).toBeUndefined()
    // Replacing a page keeps the accounting right.
    const before = pages.stats
    put(pages, 129, 1, 'q', page, 0)
    expect(pages.stats).toEqual(before)
    for (const room of [1, 2, ...Array.from({ length: 30 }, (_, i) => 100 + i)]) pages.dropRoom(room)
    expect(pages.stats).toEqual({ pages: 0, bytes: 0 })
  })

  it('takes an eighth of PLAINTEXT_CACHE_MB; the plaintext cache keeps the rest', () => {
    expect(splitPlaintextBudget(32 * 2 ** 20)).toEqual({ texts: 28 * 2 ** 20, pages: 4 * 2 ** 20 })
    expect(splitPlaintextBudget(7)).toEqual({ texts: 7, pages: 0 })
  })
})
