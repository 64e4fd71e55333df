// Recent plaintext, so a history page read again is not decrypted again. Fernet decryption
// (HMAC + AES) is most of what a page costs the CPU, and the pages people read are mostly the same
// newest ones. Keyed by the token itself: a token names exactly one plaintext, so an edit (a new
// token) can never be answered with old text and nothing needs invalidating for correctness.
// Bounded by bytes (PLAINTEXT_CACHE_MB), least recently used out first; a deleted message's
// tokens are forgotten at once (storage/lifecycle), so its text does not outlive it here either.
import { FernetRing } from './fernet.js'

/** What one entry costs, roughly: the token, the text (UTF-16), and the Map's own overhead. */
const cost = (token: string, text: string): number => token.length + text.length * 2 + 64

export class CachingRing extends FernetRing {
  readonly #entries = new Map<string, string>()
  readonly #maxBytes: number
  #bytes = 0

  constructor (keys: readonly string[], maxBytes: number) {
    super(keys)
    this.#maxBytes = maxBytes
  }

  override decryptText (token: string): string {
    const hit = this.#entries.get(token)
    if (hit !== undefined) {
      // Most recently used goes last: Map keeps insertion order, and eviction takes the first.
      this.#entries.delete(token)
      this.#entries.set(token, hit)
      return hit
    }
    const text = super.decryptText(token)
    const size = cost(token, text)
    if (size > this.#maxBytes) return text
    this.#entries.set(token, text)
    this.#bytes += size
    for (const [oldest, value] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(oldest)
      this.#bytes -= cost(oldest, value)
    }
    return text
  }

  /** Drops these tokens' text (a deleted message's body and earlier versions). */
  forget (tokens: Iterable<string>): void {
    for (const token of tokens) {
      const text = this.#entries.get(token)
      if (text === undefined) continue
      this.#entries.delete(token)
      this.#bytes -= cost(token, text)
    }
  }

  get stats (): { entries: number, bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes }
  }
}

/** A deleted message's tokens leave the cache of whichever ring has one. */
export function forgetPlaintext (ring: FernetRing, tokens: Iterable<string>): void {
  if (ring instanceof CachingRing) ring.forget(tokens)
}
