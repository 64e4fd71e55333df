// Recent history pages as the JSON bytes they were sent as. Every client that opens a room asks
// for its newest page, and reading, decrypting and serialising 50 messages costs several times
// what the rest of the request does (auth, the access gate, the write). A page is kept with the
// room's `lastSeq` when it was read: every change to a room's messages (a send, an edit, a delete,
// a reaction, a pin) takes the room's next seq in its own transaction, so a page is served only
// while the room's seq, read afresh by the access gate on each request, still equals its own.
// Access is never cached: the gate runs before the lookup. The pages hold message text, so they
// share PLAINTEXT_CACHE_MB with the plaintext cache, and a room's pages are dropped at once when a
// message of it changes here (a deleted message's text must not linger).

/**
 * The part of PLAINTEXT_CACHE_MB that holds pages (an eighth: 4 MB of the default 32 holds the
 * newest pages of a few hundred rooms); the rest holds decrypted bodies (crypto/plaintext-cache.ts).
 * A quarter for pages cost random deep pages of a 100,000-message room 20–30 % more CPU: fewer of
 * its bodies stayed in memory.
 */
export function splitPlaintextBudget (bytes: number): { texts: number, pages: number } {
  const pages = Math.floor(bytes / 8)
  return { texts: bytes - pages, pages }
}

interface Page { roomId: number, seq: number, body: Buffer }

/** Pages asked for once are remembered (by key only) up to this many, then forgotten together. */
const SEEN_ONCE = 4096

/** What an entry costs, roughly: the bytes, the key, and the Map's and object's overhead. */
const cost = (key: string, body: Buffer): number => body.length + key.length * 2 + 128

export class PageCache {
  /** Least recently used first (Map order). */
  readonly #pages = new Map<string, Page>()
  readonly #byRoom = new Map<number, Set<string>>()
  /** Per room, how many times its pages were dropped: a read that began before a drop stores nothing. */
  readonly #drops = new Map<number, number>()
  /**
   * A page is kept from its second read on: pages read once (a client paging back through old
   * history) would otherwise push out the ones read again and again (each room's newest).
   */
  readonly #seenOnce = new Set<string>()
  readonly #maxBytes: number
  #bytes = 0

  constructor (maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** Taken before the room's seq is read; `set` refuses a page read across a drop of its room. */
  ticket (roomId: number): number {
    return this.#drops.get(roomId) ?? 0
  }

  /** The page's bytes if it was read at this seq of the room; a page of an older seq is dropped. */
  get (roomId: number, seq: number, query: string): Buffer | undefined {
    const key = `${roomId} ${query}`
    const page = this.#pages.get(key)
    if (page === undefined) return undefined
    this.#pages.delete(key)
    if (page.seq !== seq) {
      this.#forget(key, page)
      return undefined
    }
    this.#pages.set(key, page) // most recently used last
    return page.body
  }

  /** Keeps the page read at `seq` (the room's seq read before the page), unless its room was dropped since `ticket`. */
  set (roomId: number, seq: number, query: string, body: Buffer, ticket: number): void {
    if (this.ticket(roomId) !== ticket) return
    const key = `${roomId} ${query}`
    if (!this.#seenOnce.has(key)) {
      if (this.#seenOnce.size >= SEEN_ONCE) this.#seenOnce.clear()
      this.#seenOnce.add(key)
      return
    }
    const size = cost(key, body)
    // One huge page (100 long messages) must not empty the cache of everything else.
    if (size > this.#maxBytes / 8) return
    const old = this.#pages.get(key)
    if (old !== undefined) {
      this.#pages.delete(key)
      this.#forget(key, old)
    }
    this.#pages.set(key, { roomId, seq, body })
    this.#bytes += size
    let keys = this.#byRoom.get(roomId)
    if (keys === undefined) this.#byRoom.set(roomId, keys = new Set())
    keys.add(key)
    for (const [oldest, page] of this.#pages) {
      if (this.#bytes <= this.#maxBytes) break
      this.#pages.delete(oldest)
      this.#forget(oldest, page)
    }
  }

  /** Drops every page of the room, and any page of it being read right now (see `ticket`). */
  dropRoom (roomId: number): void {
    this.#drops.set(roomId, this.ticket(roomId) + 1)
    const keys = this.#byRoom.get(roomId)
    if (keys === undefined) return
    for (const key of keys) {
      const page = this.#pages.get(key)
      if (page === undefined) continue
      this.#pages.delete(key)
      this.#bytes -= cost(key, page.body)
    }
    this.#byRoom.delete(roomId)
  }

  get stats (): { pages: number, bytes: number } {
    return { pages: this.#pages.size, bytes: this.#bytes }
  }

  /** The accounting for an entry already taken out of #pages. */
  #forget (key: string, page: Page): void {
    this.#bytes -= cost(key, page.body)
    const keys = this.#byRoom.get(page.roomId)
    keys?.delete(key)
    if (keys?.size === 0) this.#byRoom.delete(page.roomId)
  }
}
