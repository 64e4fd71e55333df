// Recent plaintext, so a history page read again is not decrypted again. Fernet decryption
// (HMAC + AES) is most of what a page costs the CPU, and the pages people read are mostly the same
// newest ones. Keyed by the token itself: a token names exactly one plaintext, so an edit (a new
// token) can never be answered with old text and nothing needs invalidating for correctness.
// Bounded by bytes (PLAINTEXT_CACHE_MB), least recently used out first; a deleted message's
// tokens are forgotten at once (storage/lifecycle), so its text does not outlive it here either.
import { FernetRing } from './fernet.js'

/** One cached text, in the list from least to most recently used. */
interface Entry { token: string, text: string, older: Entry | null, newer: Entry | null }

/** What one entry costs, roughly: the token, the text (UTF-16), the entry and the Map's own overhead. */
const cost = (token: string, text: string): number => token.length + text.length * 2 + 96

/**
 * Least recently used out first, each step O(1): a Map from token to entry, and the entries in a
 * list by use. (Before, the Map's own insertion order was the list: a hit was deleted and set again
 * and the oldest taken by iterating from the front. V8 leaves a deleted entry as a hole that
 * iteration walks until the table is compacted, so once the cache was full every miss walked
 * thousands of holes: 45–85 µs a decrypt instead of ~6, and random pages of a large room cost
 * 2–4 ms.)
 */
export class CachingRing extends FernetRing {
  readonly #entries = new Map<string, Entry>()
  #oldest: Entry | null = null
  #newest: Entry | null = null
  readonly #maxBytes: number
  #bytes = 0

  constructor (keys: readonly string[], maxBytes: number) {
    super(keys)
    this.#maxBytes = maxBytes
  }

  override decryptText (token: string): string {
    const hit = this.#entries.get(token)
    if (hit !== undefined) {
      if (hit !== this.#newest) {
        this.#unlink(hit)
        this.#append(hit)
      }
      return hit.text
    }
    const text = super.decryptText(token)
    const size = cost(token, text)
    if (size > this.#maxBytes) return text
    const entry: Entry = { token, text, older: null, newer: null }
    this.#entries.set(token, entry)
    this.#append(entry)
    this.#bytes += size
    while (this.#bytes > this.#maxBytes && this.#oldest !== null) this.#remove(this.#oldest)
    return text
  }

  /** Drops these tokens' text (a deleted message's body and earlier versions). */
  forget (tokens: Iterable<string>): void {
    for (const token of tokens) {
      const entry = this.#entries.get(token)
      if (entry !== undefined) this.#remove(entry)
    }
  }

  get stats (): { entries: number, bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes }
  }

  #remove (entry: Entry): void {
    this.#unlink(entry)
    this.#entries.delete(entry.token)
    this.#bytes -= cost(entry.token, entry.text)
  }

  #unlink (entry: Entry): void {
    if (entry.older === null) this.#oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === null) this.#newest = entry.older
    else entry.newer.older = entry.older
    entry.older = null
    entry.newer = null
  }

  #append (entry: Entry): void {
    entry.older = this.#newest
    if (this.#newest === null) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
  }
}

/** A deleted message's tokens leave the cache of whichever ring has one. */
export function forgetPlaintext (ring: FernetRing, tokens: Iterable<string>): void {
  if (ring instanceof CachingRing) ring.forget(tokens)
}
