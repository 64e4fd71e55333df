// Fernet tokens (https://github.com/fernet/spec) on node:crypto, and a key ring that behaves like
// Python's MultiFernet: encrypt with the first key, decrypt with any. No Fastify imports: the
// storage layer and the key-rotation script use it directly.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual, type Decipher } from 'node:crypto'

const VERSION = 0x80
const HEADER = 1 + 8 + 16 // version, timestamp, IV
const MAC = 32
const MAX_CLOCK_SKEW_S = 60 // same as Python's cryptography

/** One opaque error for every reason a token is refused, as the spec and Python do. */
export class InvalidToken extends Error {
  constructor () {
    super('invalid Fernet token')
    this.name = 'InvalidToken'
  }
}

// Buffer.from(s, 'base64url') skips junk characters instead of failing, so check the shape first.
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/

function decodeBase64Url (text: string): Buffer | null {
  if (!BASE64URL.test(text) || text.length % 4 !== 0) return null
  return Buffer.from(text, 'base64url')
}

/** Url-safe base64 with padding: Python's decoder refuses tokens without it. */
function encodeBase64Url (bytes: Buffer): string {
  const text = bytes.toString('base64url')
  return text + '='.repeat((4 - (text.length % 4)) % 4)
}

export interface EncryptOptions {
  /** Seconds since the epoch; defaults to now. */
  now?: number
  /** Only for the spec's fixed vectors. */
  iv?: Buffer
}

export interface DecryptOptions {
  /** Seconds a token stays valid. Omit for data at rest, or old history becomes unreadable. */
  ttl?: number
  now?: number
}

export class Fernet {
  readonly #signingKey: Buffer
  readonly #encryptionKey: Buffer
  // CBC decryption is AES block decryption, then XOR with the previous ciphertext block. One
  // long-lived ECB decipher does the block part for every token (padding is checked by hand),
  // which spares creating a cipher per token: a third of the cost of reading a history page.
  readonly #blockDecipher: Decipher
  readonly #raw: Buffer

  constructor (key: string) {
    const raw = decodeBase64Url(key.trim())
    if (raw === null || raw.length !== 32) throw new TypeError('a Fernet key is url-safe base64 of 32 bytes')
    this.#raw = raw
    this.#signingKey = raw.subarray(0, 16)
    this.#encryptionKey = raw.subarray(16)
    this.#blockDecipher = createDecipheriv('aes-128-ecb', this.#encryptionKey, null).setAutoPadding(false)
  }

  static generateKey (): string {
    return encodeBase64Url(randomBytes(32))
  }

  static isValidKey (key: string): boolean {
    return decodeBase64Url(key.trim())?.length === 32
  }

  encrypt (plaintext: string | Buffer, options: EncryptOptions = {}): string {
    const now = options.now ?? Math.floor(Date.now() / 1000)
    const iv = options.iv ?? randomBytes(16)
    const header = Buffer.alloc(HEADER)
    header[0] = VERSION
    header.writeBigUInt64BE(BigInt(now), 1)
    iv.copy(header, 9)
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv)
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const mac = createHmac('sha256', this.#signingKey).update(header).update(ciphertext).digest()
    return encodeBase64Url(Buffer.concat([header, ciphertext, mac]))
  }

  decrypt (token: string, options: DecryptOptions = {}): Buffer {
    const data = decodeBase64Url(token)
    if (data === null || data.length < HEADER + 16 + MAC || (data.length - HEADER - MAC) % 16 !== 0) {
      throw new InvalidToken()
    }
    if (data[0] !== VERSION) throw new InvalidToken()
    if (options.ttl !== undefined) {
      const timestamp = Number(data.readBigUInt64BE(1))
      const now = options.now ?? Math.floor(Date.now() / 1000)
      if (timestamp + options.ttl < now || now + MAX_CLOCK_SKEW_S < timestamp) throw new InvalidToken()
    }
    const signed = data.subarray(0, data.length - MAC)
    const expected = createHmac('sha256', this.#signingKey).update(signed).digest()
    if (!timingSafeEqual(expected, data.subarray(data.length - MAC))) throw new InvalidToken()
    // Only now, with the MAC verified, is the ciphertext touched: no padding oracle.
    const ciphertext = data.subarray(HEADER, data.length - MAC)
    const plain = this.#blockDecipher.update(ciphertext)
    if (plain.length !== ciphertext.length) throw new InvalidToken()
    // The IV sits right before the ciphertext, so byte i's previous-block byte is data[9 + i].
    for (let i = 0; i < plain.length; i++) plain[i]! ^= data[9 + i]!
    const pad = plain[plain.length - 1]!
    if (pad < 1 || pad > 16) throw new InvalidToken()
    for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) throw new InvalidToken()
    return plain.subarray(0, plain.length - pad)
  }

  /**
   * A key of its own for another purpose (HKDF-SHA256 over the whole Fernet key, `purpose` as the
   * info): knowing it reveals nothing about this key, and another purpose gets an unrelated key.
   */
  deriveKey (purpose: string, length = 32): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#raw, 'secure-chat', purpose, length))
  }

  /** The creation time in the token, in seconds, once the MAC is verified. */
  timestamp (token: string): number {
    this.decrypt(token)
    return Number(decodeBase64Url(token)!.readBigUInt64BE(1))
  }
}

/** Encrypts with the first key and decrypts with any of them, like Python's MultiFernet. */
export class FernetRing {
  readonly #keys: Fernet[]

  constructor (keys: readonly string[]) {
    if (keys.length === 0) throw new TypeError('a key ring needs at least one key')
    this.#keys = keys.map((key) => new Fernet(key))
  }

  get size (): number {
    return this.#keys.length
  }

  encrypt (plaintext: string | Buffer, options?: EncryptOptions): string {
    return this.#keys[0]!.encrypt(plaintext, options)
  }

  decrypt (token: string, options?: DecryptOptions): Buffer {
    for (const key of this.#keys) {
      try {
        return key.decrypt(token, options)
      } catch {}
    }
    throw new InvalidToken()
  }

  decryptText (token: string): string {
    return this.decrypt(token).toString('utf8')
  }

  /** A key derived from the first (current) key for `purpose`: it changes when the keys are rotated. */
  deriveKey (purpose: string, length = 32): Buffer {
    return this.#keys[0]!.deriveKey(purpose, length)
  }

  /** True when the first (current) key made the token, so a rotation can skip it. */
  isCurrent (token: string): boolean {
    try {
      this.#keys[0]!.decrypt(token)
      return true
    } catch {
      return false
    }
  }

  /** Re-encrypts under the first key, keeping the token's original timestamp (as MultiFernet.rotate). */
  rotate (token: string): string {
    for (const key of this.#keys) {
      let plaintext: Buffer
      try {
        plaintext = key.decrypt(token)
      } catch {
        continue
      }
      return this.encrypt(plaintext, { now: key.timestamp(token) })
    }
    throw new InvalidToken()
  }
}
