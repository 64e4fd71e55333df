// Stored rows that no key in the ring decrypts (a corrupted or tampered token, a key removed too
// early). Reads go on without them; each is reported once, however often it is read.

/** Past this many distinct rows, more are counted no further and not reported. */
const MAX_TRACKED = 100_000

export interface UnreadableRows {
  /** Reports a row on its first sighting; later sightings do nothing. `where` names it ("message 12"). */
  saw: (where: string) => void
  /** Distinct unreadable rows seen since start. */
  count: () => number
}

export function createUnreadableRows (onFirstSighting: (where: string) => void = () => {}): UnreadableRows {
  const seen = new Set<string>()
  return {
    saw (where: string): void {
      if (seen.has(where) || seen.size >= MAX_TRACKED) return
      seen.add(where)
      onFirstSighting(where)
    },
    count: () => seen.size
  }
}
