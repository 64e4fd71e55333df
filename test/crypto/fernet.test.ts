import { execFileSync, spawnSync } from 'node:child_process'
import { createCipheriv, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Fernet, FernetRing, InvalidToken } from '../../src/crypto/fernet.js'
import { available } from '../requirements.js'

// The official vectors from the Fernet spec (copied from ../shared/fernet-spec so a clone is self-contained).
interface Vector { token: string, now: string, secret: string, src?: string, iv?: number[], ttl_sec?: number, desc?: string }
const load = (name: string): Vector[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/fernet/${name}.json`, import.meta.url), 'utf8')) as Vector[]
const seconds = (rfc3339: string): number => Math.floor(Date.parse(rfc3339) / 1000)

describe('Fernet spec vectors', () => {
  it.each(load('generate'))('generate: $src', (v) => {
    const token = new Fernet(v.secret).encrypt(v.src!, { now: seconds(v.now), iv: Buffer.from(v.iv!) })
    expect(token).toBe(v.token)
  })

  it.each(load('verify'))('verify: $src', (v) => {
    const plain = new Fernet(v.secret).decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) })
    expect(plain.toString()).toBe(v.src)
  })

  it.each(load('invalid'))('invalid: $desc', (v) => {
    expect(() => new Fernet(v.secret).decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) }))
      .toThrow(InvalidToken)
  })
})

describe('Fernet', () => {
  const key = Fernet.generateKey()

  it('round-trips UTF-8, including the empty string', () => {
    const f = new Fernet(key)
    for (const text of ['', 'hello 👋', 'x'.repeat(4000)]) {
      expect(f.decrypt(f.encrypt(text)).toString()).toBe(text)
    }
  })

  it('pads tokens and never repeats an IV', () => {
    const f = new Fernet(key)
    const a = f.encrypt('same'); const b = f.encrypt('same')
    expect(a).not.toBe(b)
    expect(a.length % 4).toBe(0)
  })

  it('refuses keys that are not 32 bytes of url-safe base64', () => {
    expect(() => new Fernet('short')).toThrow(TypeError)
    expect(() => new Fernet(Buffer.alloc(31).toString('base64url'))).toThrow(TypeError)
    expect(Fernet.isValidKey(key)).toBe(true)
    expect(Fernet.isValidKey('%'.repeat(44))).toBe(false)
  })

  it('round-trips every length across block boundaries, many tokens in a row', () => {
    const f = new Fernet(key)
    for (let n = 0; n <= 70; n++) {
      const text = 'é'.repeat(n >> 1) + 'x'.repeat(n & 1)
      expect(f.decrypt(f.encrypt(text)).toString()).toBe(text)
    }
  })

  it('refuses a token whose MAC is right but whose padding is not', () => {
    const raw = Buffer.from(key, 'base64url')
    const iv = Buffer.alloc(16, 7)
    const b64 = (bytes: Buffer) => { const t = bytes.toString('base64url'); return t + '='.repeat((4 - (t.length % 4)) % 4) }
    for (const lastByte of [0, 17, 5]) {
      const block = Buffer.alloc(16, 3)
      block[15] = lastByte // 0 and 17 are out of range; 5 after 3s is inconsistent
      const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv).setAutoPadding(false)
      const body = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(8), iv, cipher.update(block), cipher.final()])
      const mac = createHmac('sha256', raw.subarray(0, 16)).update(body).digest()
      expect(() => new Fernet(key).decrypt(b64(Buffer.concat([body, mac])))).toThrow(InvalidToken)
    }
  })

  it('refuses a token made with another key', () => {
    const token = new Fernet(Fernet.generateKey()).encrypt('secret')
    expect(() => new Fernet(key).decrypt(token)).toThrow(InvalidToken)
  })
})

describe('FernetRing', () => {
  const oldKey = Fernet.generateKey()
  const newKey = Fernet.generateKey()

  it('encrypts with the first key and decrypts with any', () => {
    const oldToken = new FernetRing([oldKey]).encrypt('from before')
    const ring = new FernetRing([newKey, oldKey])
    expect(ring.decryptText(oldToken)).toBe('from before')
    expect(new Fernet(newKey).decrypt(ring.encrypt('now')).toString()).toBe('now')
    expect(ring.isCurrent(oldToken)).toBe(false)
  })

  it('rotates a token to the first key and keeps its timestamp', () => {
    const oldToken = new Fernet(oldKey).encrypt('kept', { now: 1_000_000 })
    const ring = new FernetRing([newKey, oldKey])
    const rotated = ring.rotate(oldToken)
    expect(ring.isCurrent(rotated)).toBe(true)
    expect(new Fernet(newKey).timestamp(rotated)).toBe(1_000_000)
    expect(new Fernet(newKey).decrypt(rotated).toString()).toBe('kept')
  })
})

// Interoperability with the reference implementation most operators will have at hand.
const python = spawnSync('python3', ['-c', 'import cryptography.fernet'], { encoding: 'utf8' })
const hasPythonFernet = python.status === 0

describe.skipIf(!available('python3 with cryptography', hasPythonFernet))('interop with Python cryptography.fernet', () => {
  const key = Fernet.generateKey()
  const py = (script: string, ...args: string[]): string =>
    execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' }).trim()

  it('Python decrypts our tokens', () => {
    const token = new Fernet(key).encrypt('hello from node 👋')
    const out = py('import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1]).decrypt(sys.argv[2].encode()).decode())', key, token)
    expect(out).toBe('hello from node 👋')
  })

  it('we decrypt Python tokens', () => {
    const token = py("import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1]).encrypt('hello from python 🐍'.encode()).decode())", key)
    expect(new Fernet(key).decrypt(token).toString()).toBe('hello from python 🐍')
  })

  it('MultiFernet reads what our ring rotated', () => {
    const oldKey = Fernet.generateKey()
    const rotated = new FernetRing([key, oldKey]).rotate(new Fernet(oldKey).encrypt('rotated'))
    const out = py('import sys; from cryptography.fernet import Fernet, MultiFernet; print(MultiFernet([Fernet(sys.argv[1])]).decrypt(sys.argv[2].encode()).decode())', key, rotated)
    expect(out).toBe('rotated')
  })
})
