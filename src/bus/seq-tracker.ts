// In-order, exactly-once delivery per room from a lossy, unordered feed (the bus) plus the record
// (the database). Per watched room it keeps the last seq delivered: the next one is delivered at
// once, an old one is dropped, one past a gap is held; a gap still open after `gapMs` is filled by
// asking the record for everything after the last seq delivered. No Redis and no SQL in here: the
// feed calls `offer`, the record is the `fill` callback.

export interface SeqTrackerOptions<T> {
  seqOf: (item: T) => number
  deliver: (roomId: number, item: T) => void
  /** Items of the room with seq > afterSeq, in seq order (the record). */
  fill: (roomId: number, afterSeq: number) => Promise<readonly T[]> | readonly T[]
  /** The room's last seq now: what a room starts from when its first socket joins here. */
  head: (roomId: number) => Promise<number> | number
  /** How long a gap may stay open before the record is asked. */
  gapMs: number
  /** A fill or head that failed: it is tried again after `gapMs`. */
  onError?: (error: unknown, roomId: number) => void
}

class Track<T> {
  /** Null until the room's head is known. */
  last: number | null = null
  readonly held = new Map<number, T>()
  timer: ReturnType<typeof setTimeout> | null = null
  filling = false
  /** Asked to fill again while a fill was running. */
  again = false
}

export class SeqTracker<T> {
  readonly #rooms = new Map<number, Track<T>>()
  readonly #o: SeqTrackerOptions<T>

  constructor (options: SeqTrackerOptions<T>) {
    this.#o = options
  }

  /** The last seq delivered in the room (null: not watched, or its head is not known yet). */
  last (roomId: number): number | null {
    return this.#rooms.get(roomId)?.last ?? null
  }

  /** Items held past a gap in the room. */
  held (roomId: number): number {
    return this.#rooms.get(roomId)?.held.size ?? 0
  }

  get rooms (): IterableIterator<number> {
    return this.#rooms.keys()
  }

  /** Starts tracking a room (its first socket here): from its head, asked now. Idempotent. */
  watch (roomId: number): void {
    if (this.#rooms.has(roomId)) return
    const track = new Track<T>()
    this.#rooms.set(roomId, track)
    this.#start(roomId, track)
  }

  /** Stops tracking a room (no socket here any more): what it held is dropped. */
  unwatch (roomId: number): void {
    const track = this.#rooms.get(roomId)
    if (track === undefined) return
    if (track.timer !== null) clearTimeout(track.timer)
    this.#rooms.delete(roomId)
  }

  /** One item from the feed (or committed here). Ignored for rooms not watched. */
  offer (roomId: number, item: T): void {
    const track = this.#rooms.get(roomId)
    if (track === undefined) return
    const seq = this.#o.seqOf(item)
    if (track.last !== null && seq <= track.last) return // old, or delivered already
    track.held.set(seq, item)
    if (track.last !== null) this.#drain(roomId, track)
  }

  /**
   * Asks the record for everything after the last seq now, without waiting for a gap: after the
   * feed was cut off (everything may have been missed), or when an item's place cannot be known.
   */
  poke (roomId: number): void {
    const track = this.#rooms.get(roomId)
    if (track !== undefined && track.last !== null) void this.#fill(roomId, track)
  }

  pokeAll (): void {
    for (const roomId of [...this.#rooms.keys()]) this.poke(roomId)
  }

  /** Stops every timer (shutdown). */
  clear (): void {
    for (const roomId of [...this.#rooms.keys()]) this.unwatch(roomId)
  }

  #start (roomId: number, track: Track<T>): void {
    let head: Promise<number> | number
    try {
      head = this.#o.head(roomId)
    } catch (error) {
      return this.#retryStart(error, roomId, track)
    }
    if (typeof head === 'number') return this.#started(roomId, track, head)
    head.then((seq) => this.#started(roomId, track, seq), (error: unknown) => this.#retryStart(error, roomId, track))
  }

  #started (roomId: number, track: Track<T>, head: number): void {
    if (this.#rooms.get(roomId) !== track) return // unwatched meanwhile
    track.last = head
    this.#drain(roomId, track)
  }

  #retryStart (error: unknown, roomId: number, track: Track<T>): void {
    this.#o.onError?.(error, roomId)
    track.timer = setTimeout(() => {
      track.timer = null
      if (this.#rooms.get(roomId) === track) this.#start(roomId, track)
    }, this.#o.gapMs)
  }

  /** Delivers what follows the last seq, drops what is old, and keeps a timer while a gap is open. */
  #drain (roomId: number, track: Track<T>): void {
    let next: T | undefined
    while ((next = track.held.get(track.last! + 1)) !== undefined) {
      track.held.delete(track.last! + 1)
      track.last! += 1
      this.#o.deliver(roomId, next)
    }
    for (const seq of track.held.keys()) if (seq <= track.last!) track.held.delete(seq)
    if (track.held.size === 0) {
      if (track.timer !== null && !track.filling) {
        clearTimeout(track.timer)
        track.timer = null
      }
    } else if (track.timer === null && !track.filling) {
      track.timer = setTimeout(() => {
        track.timer = null
        void this.#fill(roomId, track)
      }, this.#o.gapMs)
    }
  }

  async #fill (roomId: number, track: Track<T>): Promise<void> {
    if (track.filling) {
      track.again = true
      return
    }
    if (track.timer !== null) {
      clearTimeout(track.timer)
      track.timer = null
    }
    track.filling = true
    try {
      do {
        track.again = false
        const items = await this.#o.fill(roomId, track.last!)
        if (this.#rooms.get(roomId) !== track) return
        // The record is the truth: what it has after the last seq is delivered in its order, even
        // where its numbers are not consecutive.
        for (const item of items) {
          const seq = this.#o.seqOf(item)
          if (seq <= track.last!) continue
          track.last = seq
          track.held.delete(seq)
          this.#o.deliver(roomId, item)
        }
      } while (track.again)
    } catch (error) {
      this.#o.onError?.(error, roomId)
      if (this.#rooms.get(roomId) === track) {
        track.filling = false
        track.timer ??= setTimeout(() => {
          track.timer = null
          void this.#fill(roomId, track)
        }, this.#o.gapMs)
      }
      return
    } finally {
      track.filling = false
    }
    if (this.#rooms.get(roomId) === track) this.#drain(roomId, track)
  }
}
