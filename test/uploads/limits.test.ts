// Size limits and the per-user quota, on an app built with MAX_UPLOAD_MB=1 and UPLOAD_QUOTA_MB=2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, buildTestApp, countRows, registerUser, type TestApp } from '../helper.js'
import { makePdf, mediaFiles, multipart, upload } from './helpers.js'

const MiB = 1024 * 1024
let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp({ MAX_UPLOAD_MB: '1', UPLOAD_QUOTA_MB: '2' })
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

/** A PDF of exactly `size` bytes. */
const pdfOf = (size: number): Buffer => {
  const bytes = Buffer.alloc(size, 0x20)
  makePdf().copy(bytes)
  return bytes
}

async function counts (): Promise<{ messages: number, media: number }> {
  return { messages: await countRows(t.config, 'messages'), media: await countRows(t.config, 'media') }
}

describe('MAX_UPLOAD_MB', () => {
  it('1 MiB + 1 byte is refused with 413, leaving no file, no row and no message', async () => {
    const files = mediaFiles(t.config.mediaDir)
    const rows = await counts()
    const res = await upload(t.app, token, { bytes: pdfOf(MiB + 1), filename: 'big.pdf' }, { body: 'too big' })
    expect(res.statusCode).toBe(413)
    expect(res.json()).toEqual({ error: { code: 'payload_too_large', message: 'The file is too large: at most 1 MB.' } })
    expect(mediaFiles(t.config.mediaDir)).toEqual(files)
    expect(await counts()).toEqual(rows)
  })

  it('exactly 1 MiB is accepted', async () => {
    const res = await upload(t.app, token, { bytes: pdfOf(MiB), filename: 'fits.pdf' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().message.attachment.size).toBe(MiB)
  })

  it('a Content-Length far over the limit is refused before the body is read', async () => {
    const { headers } = multipart([{ name: 'file', value: 'x', filename: 'x.pdf' }])
    const res = await t.app.inject({
      method: 'POST', url: '/api/rooms/1/uploads', payload: 'not read', headers: { ...headers, ...bearer(token), 'content-length': String(50 * MiB) }
    })
    expect(res.statusCode).toBe(413)
    expect(res.headers.connection).toBe('close')
  })
})

describe('UPLOAD_QUOTA_MB', () => {
  it('refuses an upload that would take a user over their quota; others are unaffected', async () => {
    // 1 MiB is stored already (above); 1 MiB more fits, then the quota is full.
    expect((await upload(t.app, token, { bytes: pdfOf(MiB), filename: 'two.pdf' })).statusCode).toBe(201)
    const files = mediaFiles(t.config.mediaDir)
    const res = await upload(t.app, token, { bytes: pdfOf(1000), filename: 'three.pdf' })
    expect(res.statusCode).toBe(413)
    expect(res.json().error.message).toMatch(/upload space/)
    expect(mediaFiles(t.config.mediaDir)).toEqual(files)

    const other = await registerUser(t.app)
    expect((await upload(t.app, other.token, { bytes: pdfOf(1000), filename: 'mine.pdf' })).statusCode).toBe(201)
  })

  it('counts parallel uploads together: they cannot pass the quota between them', async () => {
    const user = await registerUser(t.app)
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      upload(t.app, user.token, { bytes: pdfOf(700 * 1024), filename: `p${i}.pdf` })))
    const codes = results.map((r) => r.statusCode)
    expect(codes.filter((c) => c === 201)).toHaveLength(2) // 2 × 700 KiB fit in 2 MiB, a third does not
    expect(codes.filter((c) => c === 413)).toHaveLength(4)
    expect(await t.app.storage.media.usage(user.id)).toBeLessThanOrEqual(2 * MiB)
  })

  it('an upload that commits while another reads the stored usage still counts for that other', async () => {
    // B reads the stored usage; before the read returns, A is stored and its hold released. B's
    // read counted A neither as stored nor in flight, so B must read again.
    const user = await registerUser(t.app)
    expect((await upload(t.app, user.token, { bytes: pdfOf(700 * 1024), filename: 'first.pdf' })).statusCode).toBe(201)
    const media = t.app.storage.media
    const usage = media.usage
    let calls = 0
    let openGate = (): void => {}
    const gate = new Promise<void>((resolve) => { openGate = resolve })
    let readHeld = (): void => {}
    const held = new Promise<void>((resolve) => { readHeld = resolve })
    media.usage = async (id) => {
      const value = await usage(id)
      // B's second read (the one that holds quota) is the one that is overtaken.
      if (id === user.id && ++calls === 2) { readHeld(); await gate }
      return value
    }
    try {
      const b = upload(t.app, user.token, { bytes: pdfOf(700 * 1024), filename: 'b.pdf' })
      await held
      media.usage = usage // A goes through untouched
      const a = await upload(t.app, user.token, { bytes: pdfOf(700 * 1024), filename: 'a.pdf' })
      expect(a.statusCode).toBe(201)
      openGate()
      expect((await b).statusCode).toBe(413) // 3 × 700 KiB do not fit in 2 MiB
      expect(await usage(user.id)).toBe(2 * 700 * 1024)
    } finally {
      media.usage = usage
      openGate()
    }
  })
})
