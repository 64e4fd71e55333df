// The plaintext cache of history reads: bounded, least recently used out first, never stale (keyed
// by token), and a deleted message's text leaves it at once, on both stores.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { CachingRing } from '../../src/crypto/plaintext-cache.js'
import { openStorage, type Store } from '../../src/storage/index.js'
import { openPgStore } from '../../src/storage/pg/index.js'
import { createTestSchema } from '../pg-helper.js'
import { tempDir } from '../helper.js'

describe('CachingRing', () => {
  const key = Fernet.generateKey()
  const plain = new FernetRing([key])

  it('answers as the ring does, a second read from memory', () => {
    const ring = new CachingRing([key], 1 << 20)
    const token = plain.encrypt('hello 👋')
    expect(ring.decryptText(token)).toBe('hello 👋')
    expect(ring.stats.entries).toBe(1)
    expect(ring.decryptText(token)).toBe('hello 👋')
    expect(ring.stats.entries).toBe(1)
    // A new token (an edit) is new text, whatever was cached for the message.
    expect(ring.decryptText(plain.encrypt('hello again'))).toBe('hello again')
    expect(() => ring.decryptText(new FernetRing([Fernet.generateKey()]).encrypt('x'))).toThrow()
  })

  it('stays under its byte bound, dropping the least recently used first', () => {
    const tokens = Array.from({ length: 40 }, (_, i) => plain.encrypt(`message number ${i}`))
    const ring = new CachingRing([key], 10 * (tokens[0]!.length + 2 * 'message number 10'.length + 64))
    ring.decryptText(tokens[0]!)
    for (const token of tokens.slice(1)) {
      ring.decryptText(tokens[0]!) // kept warm: never the least recently used
      ring.decryptText(token)
    }
    expect(ring.stats.entries).toBeLessThanOrEqual(10)
    expect(ring.stats.bytes).toBeLessThanOrEqual(10 * (tokens[0]!.length + 2 * 'message number 10'.length + 64))
    const before = ring.stats.entries
    ring.forget([tokens[0]!])
    expect(ring.stats.entries).toBe(before - 1) // it was still there
    expect(ring.decryptText(tokens[0]!)).toBe('message number 0')
  })

  it('is least recently used, exactly, through any mix of reads and forgets (against a plain model)', () => {
    // Counts what really gets decrypted: a read the cache answers never reaches decrypt.
    class Counting extends CachingRing {
      misses = 0
      override decrypt (token: string): Buffer {
        this.misses++
        return super.decrypt(token)
      }
    }
    const tokens = Array.from({ length: 30 }, (_, i) => plain.encrypt(`text ${String(i).padStart(2, '0')}`))
    const probe = new CachingRing([key], 1 << 20)
    probe.decryptText(tokens[0]!)
    const each = probe.stats.bytes // every entry costs the same here
    const ring = new Counting([key], 8 * each)
    let model: string[] = [] // least recently used first
    let seed = 7
    const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const token = tokens[random(tokens.length)]!
      if (random(5) === 0) {
        ring.forget([token])
        model = model.filter((t) => t !== token)
      } else {
        const misses = ring.misses
        expect(ring.decryptText(token)).toBe(`text ${String(tokens.indexOf(token)).padStart(2, '0')}`)
        expect(ring.misses - misses).toBe(model.includes(token) ? 0 : 1)
        model = [...model.filter((t) => t !== token), token]
        if (model.length > 8) model.shift()
      }
      expect(ring.stats).toEqual({ entries: model.length, bytes: model.length * each })
    }
  })

  it('keeps no text larger than the whole cache', () => {
    const ring = new CachingRing([key], 100)
    expect(ring.decryptText(plain.encrypt('x'.repeat(500)))).toBe('x'.repeat(500))
    expect(ring.stats).toEqual({ entries: 0, bytes: 0 })
  })
})

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe.each(['sqlite', 'postgres'] as const)('a deleted message leaves the cache (%s)', (dialect) => {
  it('its body and earlier versions are forgotten when it is deleted', async () => {
    const key = Fernet.generateKey()
    const ring = new CachingRing([key], 1 << 20)
    let store: Store
    if (dialect === 'sqlite') {
      store = openStorage(join(tempDir(), 'chat.db'), ring)
    } else {
      const schema = await createTestSchema()
      cleanups.push(schema.drop)
      store = await openPgStore(schema.url, ring, { max: 2 })
    }
    cleanups.push(async () => store.close())
    const alice = (await store.users.create('alice', 'h'))!
    await store.messages.insert({ roomId: 1, author: alice, body: 'stays' })
    const gone = (await store.messages.insert({ roomId: 1, author: alice, body: 'first words' })).message
    await store.lifecycle.edit(1, gone.id, 'second words', [])
    expect((await store.lifecycle.edits(1, gone.id)).map((e) => e.body)).toEqual(['first words'])
    expect((await store.messages.history(1, { limit: 10 })).messages.map((m) => m.body)).toEqual(['stays', 'second words'])
    const cached = ring.stats.entries
    expect(cached).toBeGreaterThanOrEqual(3) // the key check, 'stays', both versions of the other
    await store.lifecycle.remove(1, gone.id)
    expect(ring.stats.entries).toBe(cached - 2)
    expect((await store.messages.history(1, { limit: 10 })).messages.map((m) => m.body)).toEqual(['stays', ''])
  })
})
