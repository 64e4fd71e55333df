// Upload test helpers: multipart bodies built by hand (so tests control every byte, names and part
// order included) and small real files of every kind, made in the test.
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import sharp from 'sharp'
import { bearer } from '../helper.js'

export interface Part {
  name: string
  value: string | Buffer
  /** Present: a file part. */
  filename?: string
  contentType?: string
}

export function multipart (parts: readonly Part[]): { payload: Buffer, headers: Record<string, string> } {
  const boundary = `----test${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`
    if (part.filename !== undefined) head += `; filename="${part.filename}"`
    head += '\r\n'
    if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`
    else if (part.filename !== undefined) head += 'Content-Type: application/octet-stream\r\n'
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value, 'utf8'), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  const payload = Buffer.concat(chunks)
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(payload.length) } }
}

/** POST /api/rooms/:roomId/uploads with one file and an optional caption (before the file unless `captionLast`). */
export async function upload (app: FastifyInstance, token: string, file: { bytes: Buffer, filename: string, contentType?: string },
  options: { body?: string, roomId?: number, captionLast?: boolean, clientId?: string } = {}) {
  const filePart: Part = { name: 'file', value: file.bytes, filename: file.filename, contentType: file.contentType }
  const fields: Part[] = []
  if (options.body !== undefined) fields.push({ name: 'body', value: options.body })
  if (options.clientId !== undefined) fields.push({ name: 'clientId', value: options.clientId })
  const { payload, headers } = multipart(options.captionLast === true ? [filePart, ...fields] : [...fields, filePart])
  return app.inject({ method: 'POST', url: `/api/rooms/${options.roomId ?? 1}/uploads`, payload, headers: { ...headers, ...bearer(token) } })
}

/** Every entry in the media folder, dotfiles (temp files) included. */
export const mediaFiles = (dir: string): string[] => readdirSync(dir).sort()

export const GPS_EXIF = {
  IFD0: { Make: 'TestCam' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' }
}

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } })

export const makePng = (width = 1200, height = 800) => solid(width, height).png().toBuffer()
/** 300×200 stored with EXIF orientation 6 (display it rotated 90°) and a GPS position. */
export const makeGpsJpeg = () => solid(300, 200).jpeg().withExif(GPS_EXIF).withMetadata({ orientation: 6 }).toBuffer()
export const makeGif = () => solid(64, 48).gif().toBuffer()
export const makeWebp = () => solid(64, 48).webp().toBuffer()
export const makeAvif = () => solid(64, 48).avif({ effort: 0 }).toBuffer()

/** True when an EXIF block holds the GPSInfo pointer tag (0x8825), in either byte order. */
export function hasGpsTag (exif: Buffer | undefined): boolean {
  if (exif === undefined) return false
  return exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88]))
}

const ebml = (id: number[], data: Buffer) => Buffer.concat([Buffer.from(id), Buffer.from([0x80 | data.length]), data])
/** An EBML header with DocType webm: enough for magic-byte detection. */
export function makeWebm (): Buffer {
  const header = Buffer.concat([ebml([0x42, 0x86], Buffer.from([1])), ebml([0x42, 0xf7], Buffer.from([1])),
    ebml([0x42, 0xf2], Buffer.from([4])), ebml([0x42, 0xf3], Buffer.from([8])), ebml([0x42, 0x82], Buffer.from('webm')),
    ebml([0x42, 0x87], Buffer.from([4])), ebml([0x42, 0x85], Buffer.from([2]))])
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | header.length]), header, Buffer.alloc(64)])
}

/** An `ftyp` box (isom) and an empty `mdat`: a minimal ISO-BMFF file, plus `size` filler bytes. */
export function makeMp4 (size = 64): Buffer {
  const filler = Buffer.alloc(size)
  for (let i = 0; i < size; i++) filler[i] = i % 251
  return Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isommp41'),
    Buffer.from([0, 0, 0, 8]), Buffer.from('mdat'), filler])
}

export const makeM4a = (): Buffer =>
  Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypM4A '), Buffer.from([0, 0, 2, 0]), Buffer.from('M4A mp42'), Buffer.alloc(64)])

/** One MPEG-1 layer III frame (128 kbit/s, 44.1 kHz, no padding: 417 bytes) of silence. */
export const mp3Frame = (): Buffer => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)])

/** An ID3v2.3 tag holding a title. */
export function id3Tag (title = 'Test tone'): Buffer {
  const text = Buffer.concat([Buffer.from([0]), Buffer.from(title, 'latin1')])
  const frame = Buffer.concat([Buffer.from('TIT2'), Buffer.from([0, 0, 0, text.length, 0, 0]), text])
  const size = frame.length // < 128: one syncsafe byte
  return Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 0, size]), frame])
}

/** A real, minimal MP3: an ID3v2 tag (unless `tagged` is false), then `frames` consecutive frames. */
export const makeMp3 = (frames = 4, tagged = true): Buffer =>
  Buffer.concat([tagged ? id3Tag() : Buffer.alloc(0), ...Array.from({ length: frames }, mp3Frame)])

/** 0.1 s of 8 kHz 16-bit mono silence. */
export function makeWav (): Buffer {
  const fmt = Buffer.alloc(16)
  fmt.writeUInt16LE(1, 0); fmt.writeUInt16LE(1, 2); fmt.writeUInt32LE(8000, 4); fmt.writeUInt32LE(16000, 8); fmt.writeUInt16LE(2, 12); fmt.writeUInt16LE(16, 14)
  const data = Buffer.alloc(1600)
  const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt '), Buffer.from([16, 0, 0, 0]), fmt,
    Buffer.from('data'), Buffer.from([0x40, 0x06, 0, 0]), data])
  wav.writeUInt32LE(wav.length - 8, 4)
  return wav
}

export const makePdf = (): Buffer => Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
