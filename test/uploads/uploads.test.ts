// POST /api/rooms/:roomId/uploads and GET /media/:name through app.inject, with real files made here.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { bearer, buildTestApp, onPostgres, registerUser, selectColumn, type TestApp } from '../helper.js'
import {
  hasGpsTag, makeAvif, makeGif, makeGpsJpeg, makeM4a, makeMp3, makeMp4, makePdf, makePng, makeWav, makeWebm, makeWebp,
  mediaFiles, multipart, upload
} from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

const sent = (res: { json: <T>() => T }) => res.json<{ message: Message }>().message
const fetchMedia = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers })
const storedPath = (url: string) => join(t.config.mediaDir, url.slice('/media/'.length))

describe('kinds, decided from the bytes', () => {
  it.each([
    ['clip.mp4', 'video', 'video/mp4', makeMp4],
    ['clip.webm', 'video', 'video/webm', makeWebm],
    ['song.mp3', 'audio', 'audio/mpeg', makeMp3],
    ['voice.m4a', 'audio', 'audio/mp4', makeM4a],
    ['tone.wav', 'audio', 'audio/wav', makeWav],
    ['report.pdf', 'file', 'application/pdf', makePdf],
    ['notes.txt', 'file', 'text/plain', () => Buffer.from('Meeting notes\n- ship it\n')],
    ['anim.gif', 'image', 'image/gif', makeGif],
    ['pic.webp', 'image', 'image/webp', makeWebp],
    ['pic.avif', 'image', 'image/avif', makeAvif]
  ] as const)('%s → %s (%s)', async (filename, kind, mime, make) => {
    const bytes = await make()
    // The client's Content-Type is a lie on purpose: it must not matter.
    const res = await upload(t.app, token, { bytes, filename, contentType: 'application/x-whatever' })
    expect(res.statusCode, res.body).toBe(201)
    const { attachment, body } = sent(res)
    expect(body).toBe('')
    expect(attachment).toMatchObject({ name: filename, mime, kind })
    expect(attachment!.url).toMatch(/^\/media\/[0-9a-f]{32}\.[a-z0-9]+$/)
    const served = await fetchMedia(attachment!.url)
    expect(served.statusCode).toBe(200)
    expect(served.headers['content-type']).toBe(mime === 'text/plain' ? 'text/plain; charset=utf-8' : mime)
    expect(served.headers['content-disposition']).toMatch(kind === 'file' ? /^attachment; / : /^inline; /)
    expect(Number(served.headers['content-length'])).toBe(attachment!.size)
    // Stored as sent, except images other than GIF, which are re-encoded without metadata.
    if (kind !== 'image' || mime === 'image/gif') expect(served.rawPayload.equals(bytes)).toBe(true)
    else expect((await sharp(served.rawPayload).metadata()).format).toBe(mime === 'image/avif' ? 'heif' : mime.slice(6))
    if (kind === 'image') expect(attachment!.thumbnailUrl).toMatch(/^\/media\/[0-9a-f]{32}\.webp$/)
    else expect(attachment!.thumbnailUrl).toBeUndefined()
  })

  it('a PNG gets a WebP thumbnail at most 480 wide', async () => {
    const res = await upload(t.app, token, { bytes: await makePng(1200, 800), filename: 'wide.png' })
    expect(res.statusCode, res.body).toBe(201)
    const { attachment } = sent(res)
    expect(attachment).toMatchObject({ kind: 'image', mime: 'image/png', name: 'wide.png' })
    expect(attachment!.thumbnailUrl).toMatch(/^\/media\/[0-9a-f]{32}\.webp$/)
    const thumb = await fetchMedia(attachment!.thumbnailUrl!)
    expect(thumb.statusCode).toBe(200)
    expect(thumb.headers['content-type']).toBe('image/webp')
    const meta = await sharp(thumb.rawPayload).metadata()
    expect(meta).toMatchObject({ format: 'webp', width: 480, height: 320 })
    expect((await sharp(storedPath(attachment!.url)).metadata()).width).toBe(1200)
  })

  it('a JPEG loses its EXIF (GPS) but is turned upright first', async () => {
    const bytes = await makeGpsJpeg()
    const before = await sharp(bytes).metadata()
    expect(hasGpsTag(before.exif)).toBe(true) // the test file really carries a position
    expect(before).toMatchObject({ width: 300, height: 200, orientation: 6 })

    const res = await upload(t.app, token, { bytes, filename: 'paris.jpg' }, { body: 'Look!' })
    expect(res.statusCode, res.body).toBe(201)
    const { attachment, body } = sent(res)
    expect(body).toBe('Look!')
    const stored = await sharp(storedPath(attachment!.url)).metadata()
    expect(stored.format).toBe('jpeg')
    expect(stored.exif).toBeUndefined()
    expect(hasGpsTag(stored.exif)).toBe(false)
    expect(stored.orientation).toBeUndefined()
    expect(stored).toMatchObject({ width: 200, height: 300 }) // rotated by the orientation tag
    const thumb = await sharp(storedPath(attachment!.thumbnailUrl!)).metadata()
    expect(thumb).toMatchObject({ format: 'webp', width: 200, height: 300 }) // never enlarged
    expect(thumb.exif).toBeUndefined()
  })
})

describe('content a browser would run', () => {
  it('HTML named .png and sent as image/png is refused, not stored', async () => {
    const before = mediaFiles(t.config.mediaDir)
    const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>')
    const res = await upload(t.app, token, { bytes: html, filename: 'cat.png', contentType: 'image/png' })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } })
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })

  it.each([
    ['svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/>'],
    ['svg with xml declaration', '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['html with leading space and BOM', '\ufeff  \n<html><script>alert(1)</script></html>'],
    ['xhtml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>']
  ])('%s is refused (415)', async (_label, text) => {
    const res = await upload(t.app, token, { bytes: Buffer.from(text), filename: 'x.svg', contentType: 'image/svg+xml' })
    expect(res.statusCode).toBe(415)
  })

  it('JavaScript is stored as plain text and only ever downloaded, as .txt', async () => {
    const res = await upload(t.app, token, { bytes: Buffer.from('alert(document.cookie)\n'), filename: 'evil.js', contentType: 'text/javascript' })
    expect(res.statusCode).toBe(201)
    const { attachment } = sent(res)
    expect(attachment).toMatchObject({ mime: 'text/plain', kind: 'file', name: 'evil.js.txt' })
    const served = await fetchMedia(attachment!.url)
    expect(served.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(served.headers['content-disposition']).toMatch(/^attachment; filename="evil\.js\.txt"/)
  })

  it('binary of an unknown or unsupported type is refused', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)])
    expect((await upload(t.app, token, { bytes: elf, filename: 'a.pdf' })).statusCode).toBe(415)
    expect((await upload(t.app, token, { bytes: Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0]), filename: 'x.bin' })).statusCode).toBe(415)
  })

  it('an image whose bytes are broken is refused', async () => {
    const png = await makePng(100, 100)
    const res = await upload(t.app, token, { bytes: png.subarray(0, 60), filename: 'cut.png' })
    expect(res.statusCode).toBe(415)
    expect(res.json().error.message).toMatch(/could not be read/)
  })

  it('a pixel flood (PNG header claiming 50000×50000) is refused before decoding', async () => {
    const png = await makePng(10, 10)
    const flood = Buffer.from(png)
    flood.writeUInt32BE(50_000, 16) // IHDR width
    flood.writeUInt32BE(50_000, 20) // IHDR height (the CRC is now wrong too)
    const res = await upload(t.app, token, { bytes: flood, filename: 'flood.png' })
    expect(res.statusCode).toBe(415)
  })
})

describe('hostile file names', () => {
  it.each([
    ['../../x.pdf', 'x.pdf'],
    ['..\\..\\server.pdf', 'server.pdf'],
    ['a\u0001b\u0007\u001bc.pdf', 'abc.pdf'],
    ['invoice\u202eexe.pdf', 'invoiceexe.pdf'],
    ['.htaccess', 'htaccess.pdf']
  ])('%j is shown as %j and stored under a random name', async (filename, shown) => {
    const res = await upload(t.app, token, { bytes: makePdf(), filename })
    expect(res.statusCode, res.body).toBe(201)
    const { attachment } = sent(res)
    expect(attachment!.name).toBe(shown)
    expect(attachment!.url).toMatch(/^\/media\/[0-9a-f]{32}\.pdf$/)
    const served = await fetchMedia(attachment!.url)
    expect(served.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent(shown)}`)
  })

  it('a 1000-character name is cut to 200, keeping the extension', async () => {
    const res = await upload(t.app, token, { bytes: makePdf(), filename: `${'n'.repeat(1000)}.pdf` })
    expect(res.statusCode).toBe(201)
    expect(sent(res).attachment!.name).toBe(`${'n'.repeat(196)}.pdf`)
  })

  it('nothing outside the media folder was written, and only random names inside it', () => {
    expect(existsSync(join(t.dir, 'x.pdf'))).toBe(false)
    for (const entry of readdirSync(t.config.mediaDir)) expect(entry).toMatch(/^[0-9a-f]{32}\.[a-z0-9]+$/)
    expect(readdirSync(t.dir).sort()).toEqual(expect.arrayContaining(onPostgres ? ['media'] : ['chat.db', 'media']))
  })
})

describe('serving /media', () => {
  let video: { url: string, bytes: Buffer }
  let pdf: string
  beforeAll(async () => {
    const bytes = makeMp4(10_000)
    video = { url: sent(await upload(t.app, token, { bytes, filename: 'clip.mp4' })).attachment!.url, bytes }
    pdf = sent(await upload(t.app, token, { bytes: makePdf(), filename: 'Résumé 2026.pdf' })).attachment!.url
  })

  it('sends the security and caching headers', async () => {
    const res = await fetchMedia(video.url)
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'private, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      'content-disposition': 'inline; filename="clip.mp4"; filename*=UTF-8\'\'clip.mp4'
    })
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none';.*\bsandbox$/)
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'")
  })

  it('offers other files as downloads under their cleaned name', async () => {
    const res = await fetchMedia(pdf)
    expect(res.headers['content-type']).toBe('application/pdf')
    expect(res.headers['content-disposition']).toBe('attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8\'\'R%C3%A9sum%C3%A9%202026.pdf')
  })

  it('answers a byte range with 206 and exactly those bytes', async () => {
    const res = await fetchMedia(video.url, { range: 'bytes=100-199' })
    expect(res.statusCode).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes 100-199/${video.bytes.length}`)
    expect(res.headers['content-length']).toBe('100')
    expect(res.rawPayload.equals(video.bytes.subarray(100, 200))).toBe(true)

    const tail = await fetchMedia(video.url, { range: 'bytes=-10' })
    expect(tail.statusCode).toBe(206)
    expect(tail.rawPayload.equals(video.bytes.subarray(-10))).toBe(true)

    const open = await fetchMedia(video.url, { range: `bytes=${video.bytes.length - 5}-` })
    expect(open.rawPayload.equals(video.bytes.subarray(-5))).toBe(true)

    const past = await fetchMedia(video.url, { range: `bytes=${video.bytes.length}-` })
    expect(past.statusCode).toBe(416)
    expect(past.headers['content-range']).toBe(`bytes */${video.bytes.length}`)
  })

  it('answers a matching If-None-Match with 304, and HEAD without a body', async () => {
    const first = await fetchMedia(video.url)
    const again = await fetchMedia(video.url, { 'if-none-match': String(first.headers.etag) })
    expect(again.statusCode).toBe(304)
    const head = await t.app.inject({ method: 'HEAD', url: video.url })
    expect(head.statusCode).toBe(200)
    expect(head.headers['content-length']).toBe(String(video.bytes.length))
    expect(head.rawPayload.length).toBe(0)
  })

  it.each([
    '/media/../chat.db', '/media/..%2fchat.db', '/media/%2e%2e/chat.db', '/media/%2e%2e/%2e%2e/package.json', '/media/%252e%252e/x',
    '/media/..%5c..%5cx', '/media/x%00.png', '/media//etc/passwd', '/media/.tmp-x', '/media/', '/media/.gitkeep',
    `/media/${'0'.repeat(32)}.mp4`, `/media/${'0'.repeat(32)}.MP4`
  ])('%s → 404', async (url) => {
    const res = await fetchMedia(url)
    expect(res.statusCode).toBe(404)
    expect(res.body).not.toContain('SQLite')
    // A dot segment takes the path out of /media/ (clients and light-my-request resolve it): public/ answers 404 then.
    if (!/\/(\.\.|%2e%2e)\//i.test(url)) expect(res.headers['content-security-policy']).toMatch(/^default-src 'none';.*sandbox$/)
  })

  it('serves no temp file, even one that exists', async () => {
    writeFileSync(join(t.config.mediaDir, '.tmp-0123456789abcdef'), '<script>alert(1)</script>')
    expect((await fetchMedia('/media/.tmp-0123456789abcdef')).statusCode).toBe(404)
  })
})

describe('the request', () => {
  it('takes the caption before or after the file, trimming trailing space', async () => {
    const after = await upload(t.app, token, { bytes: makePdf(), filename: 'a.pdf' }, { body: 'after the file  \n', captionLast: true })
    expect(after.statusCode).toBe(201)
    expect(sent(after).body).toBe('after the file')
  })

  it('refuses a caption over 4000 characters, before or after the file, leaving nothing', async () => {
    const before = mediaFiles(t.config.mediaDir)
    for (const captionLast of [false, true]) {
      const res = await upload(t.app, token, { bytes: makePdf(), filename: 'a.pdf' }, { body: 'x'.repeat(4001), captionLast })
      expect(res.statusCode).toBe(400)
      expect(res.json().error.code).toBe('validation_failed')
    }
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })

  it('needs a file part (400), multipart (415), a room that exists (404) and a token (401)', async () => {
    const onlyCaption = multipart([{ name: 'body', value: 'no file' }])
    const noFile = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', payload: onlyCaption.payload, headers: { ...onlyCaption.headers, ...bearer(token) } })
    expect(noFile.statusCode).toBe(400)

    const json = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', payload: { file: 'x' }, headers: bearer(token) })
    expect(json.statusCode).toBe(415)
    expect(json.json().error.code).toBe('unsupported_media_type')

    const before = mediaFiles(t.config.mediaDir)
    const missing = await upload(t.app, token, { bytes: makePdf(), filename: 'a.pdf' }, { roomId: 999 })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('room_not_found')
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)

    const anonymous = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', ...multipart([{ name: 'file', value: makePdf(), filename: 'a.pdf' }]) })
    expect(anonymous.statusCode).toBe(401)
  })

  it('refuses two files (413) and unknown parts (400)', async () => {
    const two = multipart([{ name: 'file', value: makePdf(), filename: 'a.pdf' }, { name: 'file', value: makePdf(), filename: 'b.pdf' }])
    const res = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', payload: two.payload, headers: { ...two.headers, ...bearer(token) } })
    expect(res.statusCode).toBe(413)
    const odd = multipart([{ name: 'isAdmin', value: 'true' }, { name: 'file', value: makePdf(), filename: 'a.pdf' }])
    const res2 = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', payload: odd.payload, headers: { ...odd.headers, ...bearer(token) } })
    expect(res2.statusCode).toBe(400)
  })

  it('a retry with the same clientId returns the first message and stores no second file', async () => {
    const first = await upload(t.app, token, { bytes: makePdf(), filename: 'a.pdf' }, { clientId: 'up-1' })
    expect(first.statusCode).toBe(201)
    const files = mediaFiles(t.config.mediaDir)
    const again = await upload(t.app, token, { bytes: makePdf(), filename: 'a.pdf' }, { clientId: 'up-1' })
    expect(again.statusCode).toBe(200)
    expect(sent(again)).toEqual(sent(first))
    expect(mediaFiles(t.config.mediaDir)).toEqual(files)
  })

  it('posts into history, and tells subscribers through the message event', async () => {
    const seen: Message[] = []
    const listener = (message: Message) => seen.push(message)
    t.app.events.on('message', listener)
    try {
      const res = await upload(t.app, token, { bytes: makePdf(), filename: 'minutes.pdf' }, { roomId: 2, body: 'minutes' })
      expect(res.statusCode).toBe(201)
      expect(seen).toEqual([sent(res)])
      const history = await t.app.inject({ method: 'GET', url: '/api/rooms/2/messages', headers: bearer(token) })
      expect(history.json().messages.at(-1)).toEqual(sent(res))
    } finally {
      t.app.events.off('message', listener)
    }
  })

  it('keeps the original name encrypted at rest', async () => {
    const rows = await selectColumn(t.config, 'SELECT original_name FROM media') as string[]
    expect(rows.length).toBeGreaterThan(0)
    for (const value of rows) expect(value).toMatch(/^gAAAAA/)
    if (!onPostgres) expect(readFileSync(t.config.databasePath).includes(Buffer.from('minutes.pdf'))).toBe(false)
  })
})
