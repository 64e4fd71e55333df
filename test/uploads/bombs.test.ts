// Decompression bombs: tiny files whose headers announce images that cost gigabytes to decode are
// refused from their header, by a limit that depends on the format; the image queue answers a
// user's second image with 429, and a client that goes away frees its place. Real sharp, real
// files made here; the memory and latency figures under load are in `npm run bench -- --only=images`.
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { mediaFiles, multipart, upload } from './helpers.js'

let t: TestApp

beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(async () => t.close())

/** A real 12-bit AVIF with alpha, 64×64, whose `ispe` box then claims `size`×`size`: 500 bytes. */
async function avifBomb (size = 7000): Promise<Buffer> {
  const small = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } })
    .avif({ effort: 0, bitdepth: 12 }).toBuffer()
  const bomb = Buffer.from(small)
  for (let i = bomb.indexOf('ispe'); i !== -1; i = bomb.indexOf('ispe', i + 4)) {
    bomb.writeUInt32BE(size, i + 8)
    bomb.writeUInt32BE(size, i + 12)
  }
  return bomb
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (bytes: Buffer): number => {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** A real 16-bit RGBA PNG whose IHDR (CRC fixed) claims width×height. */
async function deepPngClaiming (width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 4, background: '#123456' } }).png().toColourspace('rgb16').toBuffer())
  png.writeUInt32BE(width, 16)
  png.writeUInt32BE(height, 20)
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29)
  return png
}

describe('image bombs', () => {
  it('a 500-byte AVIF claiming 7000×7000, 12-bit with alpha, is refused (415) from its header, leaving nothing', async () => {
    const { token } = await registerUser(t.app)
    const bomb = await avifBomb()
    expect(bomb.length).toBeLessThan(2048)
    expect(await sharp(bomb).metadata()).toMatchObject({ width: 7000, height: 7000, bitsPerSample: 12, hasAlpha: true })
    const before = mediaFiles(t.config.mediaDir)
    const res = await upload(t.app, token, { bytes: bomb, filename: 'bomb.avif' })
    expect(res.statusCode, res.body).toBe(415)
    expect(res.json().error).toMatchObject({ code: 'unsupported_media_type' })
    expect(res.json().error.message).toMatch(/12-bit AVIF .* at most 5 megapixels, and it has 49/)
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })

  it('limits follow the format: a 16-bit PNG of 20 megapixels is refused, an 8-bit JPEG of 20 megapixels is not', async () => {
    const { token } = await registerUser(t.app)
    const png = await upload(t.app, token, { bytes: await deepPngClaiming(5000, 4000), filename: 'deep.png' })
    expect(png.statusCode, png.body).toBe(415)
    expect(png.json().error.message).toMatch(/16-bit PNG .* at most 16\.\d megapixels, and it has 20/)

    const jpeg = await sharp({ create: { width: 5000, height: 4000, channels: 3, background: '#345678' } }).jpeg().toBuffer()
    const res = await upload(t.app, token, { bytes: jpeg, filename: 'big.jpg' })
    expect(res.statusCode, res.body).toBe(201)
  })
})

describe('the image queue', () => {
  /** A real 12-bit AVIF with alpha near its limit (4.8 MP): about a second of decoding and encoding. */
  let slow: Buffer | undefined
  const slowAvif = async () => (slow ??= await sharp({ create: { width: 2200, height: 2200, channels: 4, background: { r: 9, g: 99, b: 199, alpha: 0.7 } } })
    .avif({ effort: 0, bitdepth: 12 }).toBuffer())

  it("a user's second image while the first is processed gets 429 with Retry-After; other users are not held", async () => {
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    const first = upload(t.app, alice.token, { bytes: await slowAvif(), filename: 'slow.avif' })
    await delay(300) // the first is in the gate by now: its decoding alone takes longer
    const small = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#abcdef' } }).png().toBuffer()
    const second = await upload(t.app, alice.token, { bytes: small, filename: 'second.png' })
    const other = await upload(t.app, bob.token, { bytes: small, filename: 'bob.png' })
    expect(second.statusCode, second.body).toBe(429)
    expect(second.json().error.code).toBe('rate_limited')
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0)
    expect(other.statusCode, other.body).toBe(201)
    expect((await first).statusCode).toBe(201)
    expect((await upload(t.app, alice.token, { bytes: small, filename: 'third.png' })).statusCode).toBe(201)
  })

  // Gone while the server still receives the file (its last bytes sent, the socket closed at once:
  // the server reads them all, then sees the close before its file is written), or while it waits.
  it.each(['is still being received', 'waits for its turn'] as const)('a client that goes away while its image %s frees its place (its user may send again at once)', async (moment) => {
    if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' })
    const port = (t.app.server.address() as AddressInfo).port
    const alice = await registerUser(t.app)
    const bob = await registerUser(t.app)
    // Alice's large image runs; Bob's large image cannot fit beside it, so it waits.
    const running = upload(t.app, alice.token, { bytes: await slowAvif(), filename: 'slow.avif' })
    await delay(300)
    const { payload, headers } = multipart([{ name: 'file', value: await slowAvif(), filename: 'waits.avif' }])
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/rooms/1/uploads', headers: { ...headers, authorization: `Bearer ${bob.token}` } })
    req.on('error', () => {}) // destroyed on purpose
    let aliceDone = false
    void running.then(() => { aliceDone = true })
    if (moment === 'is still being received') {
      await new Promise<void>((resolve) => req.end(payload, resolve))
      req.destroy()
    } else {
      req.end(payload)
      await delay(300) // received and waiting for its turn
      req.destroy()
    }
    // The server notices the closed socket on one of its next turns (on a loaded machine that can
    // take more than 100 ms); until then Bob's next image is a 429. Were the abandoned request still
    // queued, it would leave only after Alice's image and then its own ran: Bob's next one must get
    // through while Alice's is still being processed.
    const small = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#abcdef' } }).png().toBuffer()
    for (;;) {
      const res = await upload(t.app, bob.token, { bytes: small, filename: 'again.png' })
      expect(aliceDone, 'Bob was held until Alice\'s image was done').toBe(false)
      if (res.statusCode === 201) break
      expect(res.statusCode, res.body).toBe(429)
      await delay(20)
    }
    expect((await running).statusCode).toBe(201)
    await vi.waitFor(() => expect(mediaFiles(t.config.mediaDir).filter((name) => name.startsWith('.tmp-'))).toEqual([]))
  })
})
