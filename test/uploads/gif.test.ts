// GIFs keep no metadata: XMP (which can hold a GPS position), comments and other application
// blocks are cut out of the stored file; the picture, its frames, delays and loop count stay.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { makeGif, mediaFiles, upload } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

const XMP_GPS = '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.0N" exif:GPSLongitude="2,21.0E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'

/** XMP as Adobe stores it in a GIF: raw bytes, then a 258-byte "magic trailer" that readers skip as sub-blocks. */
function xmpExtension (xmp: string): Buffer {
  const trailer = Buffer.alloc(258)
  trailer[0] = 0x01
  for (let i = 1; i <= 256; i++) trailer[i] = 256 - i // 0xff … 0x00
  trailer[257] = 0x00
  return Buffer.concat([Buffer.from([0x21, 0xff, 0x0b]), Buffer.from('XMP DataXMP', 'latin1'), Buffer.from(xmp, 'utf8'), trailer])
}

const subBlocks = (data: Buffer): Buffer => Buffer.concat([Buffer.from([data.length]), data, Buffer.from([0])])
const comment = (text: string) => Buffer.concat([Buffer.from([0x21, 0xfe]), subBlocks(Buffer.from(text, 'latin1'))])

/** Inserts blocks right after the logical screen descriptor and its global colour table. */
function withBlocks (gif: Buffer, ...blocks: Buffer[]): Buffer {
  const packed = gif[10]!
  const start = 13 + ((packed & 0x80) === 0 ? 0 : 3 * (2 << (packed & 7)))
  return Buffer.concat([gif.subarray(0, start), ...blocks, gif.subarray(start)])
}

const sent = (res: { json: <T>() => T }) => res.json<{ message: Message }>().message
const stored = (url: string) => readFileSync(join(t.config.mediaDir, url.slice('/media/'.length)))

describe('GIF uploads', () => {
  it('lose an XMP block holding GPS, comments and bytes after the trailer', async () => {
    const plain = await makeGif()
    const bytes = Buffer.concat([withBlocks(plain, xmpExtension(XMP_GPS), comment('GPS 48.85N 2.35E, shot at home')), Buffer.from('trailing secrets')])
    expect(bytes.includes('GPSLatitude')).toBe(true) // the test file really carries a position
    expect((await sharp(bytes).metadata()).format).toBe('gif') // and is a GIF a decoder reads

    const res = await upload(t.app, token, { bytes, filename: 'where.gif' })
    expect(res.statusCode, res.body).toBe(201)
    const { attachment } = sent(res)
    expect(attachment).toMatchObject({ mime: 'image/gif', kind: 'image' })
    const kept = stored(attachment!.url)
    for (const text of ['GPS', 'XMP', 'xmpmeta', 'shot at home', 'trailing secrets']) expect(kept.includes(text), text).toBe(false)
    expect(kept.equals(plain)).toBe(true) // exactly the picture that was there
    expect(await sharp(kept).metadata()).toMatchObject({ format: 'gif', width: 64, height: 48 })
  })

  it('keep their frames, delays and loop count', async () => {
    const frame = (colour: string) => sharp({ create: { width: 32, height: 24, channels: 3, background: colour } }).png().toBuffer()
    const animation = await sharp([await frame('#f00'), await frame('#00f')], { join: { animated: true } }).gif({ delay: [100, 250], loop: 3 }).toBuffer()
    const res = await upload(t.app, token, { bytes: withBlocks(animation, xmpExtension(XMP_GPS)), filename: 'anim.gif' })
    expect(res.statusCode, res.body).toBe(201)
    const kept = stored(sent(res).attachment!.url)
    expect(kept.includes('GPS')).toBe(false)
    expect(await sharp(kept, { animated: true }).metadata()).toMatchObject({ pages: 2, delay: [100, 250], loop: 3 })
  })

  it('a GIF whose blocks are broken is refused (415), leaving nothing', async () => {
    const before = mediaFiles(t.config.mediaDir)
    const plain = await makeGif()
    const broken = withBlocks(plain, Buffer.from([0x21, 0xfe, 200, 1, 2, 3])) // a comment sub-block longer than the file
    const res = await upload(t.app, token, { bytes: broken, filename: 'broken.gif' })
    expect(res.statusCode, res.body).toBe(415)
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })
})
