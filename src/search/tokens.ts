// The blind index: keyed hashes of words, never the words. Each room has a key of its own,
// K_room = HKDF(search key, "room <id>"), and the search key is derived from the current
// encryption key (FernetRing.deriveKey), so the same word gives unrelated tokens in two rooms and a
// key rotation gives new ones (the index is rebuilt). A token is HMAC-SHA256(K_room, "w|" + word)
// cut to 24 bits: in a room's vocabulary of some 100,000 words a few share a token, on purpose, so
// the index alone cannot prove that two messages hold the same word. Searches check every
// candidate's real text, which removes those collisions.
import { createHmac, hkdfSync } from 'node:crypto'
import type { FernetRing } from '../crypto/fernet.js'
import { lengthOf, prefixOf, words } from './text.js'

/** Bytes kept of each HMAC (24 bits, 6 hex digits). */
export const TOKEN_BYTES = 3
/** A word also gets tokens for its first 2, 3 and 4 characters: what `deplo*` looks up (then checked). */
export const PREFIX_LENGTHS = [2, 3, 4] as const
export const LONGEST_PREFIX = PREFIX_LENGTHS[PREFIX_LENGTHS.length - 1]!

/** What the index holds for one message: its word tokens in text order (positions make phrases), and its prefix tokens. */
export interface IndexTokens {
  words: string[]
  prefixes: string[]
}

/** Tokens computed recently, per room and word: common words are hashed once, not at every send. */
const CACHE_SIZE = 50_000

export class SearchKeys {
  readonly #searchKey: Buffer
  readonly #roomKeys = new Map<number, Buffer>()
  readonly #cache = new Map<string, string>()

  /** From the encryption keys; or from the search key itself (`key()`), as the index thread gets it. */
  constructor (from: FernetRing | Uint8Array) {
    this.#searchKey = from instanceof Uint8Array ? Buffer.from(from) : from.deriveKey('secure-chat search index v1')
  }

  /** The search key, for the index thread (storage/search-thread.ts): it never sees the encryption keys. */
  key (): Buffer {
    return Buffer.from(this.#searchKey)
  }

  /** Names the key the index was built with, without revealing it: the index is rebuilt when this changes. */
  fingerprint (): string {
    return createHmac('sha256', this.#searchKey).update('fingerprint').digest('hex').slice(0, 16)
  }

  #roomKey (roomId: number): Buffer {
    let key = this.#roomKeys.get(roomId)
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.#searchKey, '', `room ${roomId}`, 32))
      this.#roomKeys.set(roomId, key)
    }
    return key
  }

  #token (roomId: number, kind: 'w' | 'p', text: string): string {
    const cacheKey = `${roomId}|${kind}|${text}`
    let token = this.#cache.get(cacheKey)
    if (token === undefined) {
      token = createHmac('sha256', this.#roomKey(roomId)).update(`${kind}|${text}`).digest().subarray(0, TOKEN_BYTES).toString('hex')
      // Full: start over (cheaper than keeping an order; the common words come back at once).
      if (this.#cache.size >= CACHE_SIZE) this.#cache.clear()
      this.#cache.set(cacheKey, token)
    }
    return token
  }

  word (roomId: number, word: string): string {
    return this.#token(roomId, 'w', word)
  }

  /** The token a prefix query looks up: that of its first (at most) 4 characters. */
  prefix (roomId: number, prefix: string): string {
    return this.#token(roomId, 'p', prefixOf(prefix, LONGEST_PREFIX))
  }

  /** Everything the index holds for a message of this room with this text. */
  forText (roomId: number, text: string): IndexTokens {
    const found = words(text)
    const prefixes = new Set<string>()
    const seen = new Set<string>()
    for (const { text: word } of found) {
      if (seen.has(word)) continue
      seen.add(word)
      const length = lengthOf(word)
      for (const n of PREFIX_LENGTHS) if (length >= n) prefixes.add(this.#token(roomId, 'p', prefixOf(word, n)))
    }
    return { words: found.map((w) => this.word(roomId, w.text)), prefixes: [...prefixes] }
  }
}
