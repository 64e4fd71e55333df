// Images: re-encoded without their metadata (EXIF with GPS, XMP, IPTC) after applying the EXIF
// orientation, and a small WebP preview. sharp works on libuv's thread pool, so the event loop
// stays free. What an image costs to decode is known from its header before a pixel is decoded:
// an image costing more than one image may is refused, and the gate (gate.ts) keeps the images in
// memory together within a budget.
// @see https://sharp.pixelplumbing.com/api-output#withmetadata (metadata is dropped by default)
import { chmod, readFile, writeFile } from 'node:fs/promises'
import sharp, { type Metadata } from 'sharp'
import { AppError, errors } from '../errors.js'
import { Abandoned, ImageGate } from './gate.js'
import { stripGifMetadata } from './gif.js'

/** Pixel-flood guard (ASVS 5.2.6): larger images are refused before they are decoded, whatever their format. */
export const MAX_PIXELS = 50_000_000
export const THUMB_WIDTH = 480
export const THUMB_MAX_HEIGHT = 960

const MiB = 1024 * 1024
/**
 * The memory budget. 256 MiB for all images at once, at most 192 MiB of it for large ones (one
 * large image may take all 192), so a small one always finds room. With the server's own ~100 MB
 * this keeps the process well under 512 MB whatever is uploaded (`npm run bench -- --only=images`).
 */
export const IMAGE_LIMITS = { totalBytes: 256 * MiB, largeBytes: 192 * MiB, smallBytes: 32 * MiB, maxWaiting: 8, maxWaitMs: 30_000 }

/**
 * Peak memory per pixel and channel while decoding, re-encoding and thumbnailing, by sharp's
 * format name: [8-bit, deeper]. Measured with sharp 0.35 / libvips 8.18 (peak RSS over the whole
 * pipeline, rotation included). AVIF is the costly one: libheif decodes the whole image into its
 * own planes, then libvips copies it, then aom encodes it again.
 */
const BYTES_PER_SAMPLE: Readonly<Record<string, readonly [number, number]>> = {
  jpeg: [1.5, 1.5], png: [1.5, 3], webp: [6, 6], gif: [2, 2], heif: [8, 10]
}

/** sharp's name for each image type we accept. */
const FORMATS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/avif': 'heif'
}

// Every image is decoded once: libvips' operation cache would only hold on to memory. One thread
// per image: two cores' worth of images run side by side, each within its measured cost.
sharp.cache(false)
sharp.concurrency(1)

const megapixels = (pixels: number): string => (Math.floor(pixels / 100_000) / 10).toString()
const unreadable = () => errors.unsupportedMediaType('The image could not be read; it may be damaged.')
const outOfSpace = () => new AppError('insufficient_storage')

export interface ImageCost {
  /** Estimated peak memory, in bytes. */
  bytes: number
  /** The most pixels this format and depth may have. */
  maxPixels: number
  pixels: number
}

/** What decoding this image would cost, from its header alone. */
export function imageCost (meta: Metadata): ImageCost {
  const format = meta.format ?? 'jpeg'
  const deep = meta.depth === 'ushort' || meta.depth === 'float' || (meta.bitsPerSample ?? 8) > 8
  const perSample = (BYTES_PER_SAMPLE[format] ?? [6, 10])[deep ? 1 : 0]
  const perPixel = (meta.channels ?? 4) * perSample
  // A GIF is only decoded for its first frame (the thumbnail); the others are decoded whole.
  const frames = format === 'gif' ? 1 : meta.pages ?? 1
  const pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0) * frames
  return { bytes: pixels * perPixel, pixels, maxPixels: Math.min(MAX_PIXELS, Math.floor(IMAGE_LIMITS.largeBytes / perPixel)) }
}

const FORMAT_NAMES: Readonly<Record<string, string>> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', heif: 'AVIF' }

function tooBig (meta: Metadata, cost: ImageCost): AppError {
  const deep = meta.depth === 'ushort' || (meta.bitsPerSample ?? 8) > 8
  const kind = `${deep ? `${meta.bitsPerSample ?? 16}-bit ` : ''}${FORMAT_NAMES[meta.format ?? ''] ?? 'image'}`
  return errors.unsupportedMediaType(`The image is too large to process: a ${kind} like this one may have at most ` +
    `${megapixels(cost.maxPixels)} megapixels, and it has ${megapixels(cost.pixels)}. Scale it down, or send it as JPEG.`)
}

const open = (path: string, maxPixels: number, animated = false) =>
  sharp(path, { limitInputPixels: Math.max(1, maxPixels), animated, failOn: 'error' })

function asUploadError (error: unknown): never {
  if (error instanceof AppError || error instanceof Abandoned) throw error
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : ''
  // A full disk is not a bad image. sharp reports write errors as text, fs calls with a code.
  if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device|disk quota exceeded/i.test(message)) throw outOfSpace()
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw error // another file-system error: the caller decides
  throw unreadable()
}

/**
 * Writes a metadata-free copy of the image at `src` to `dest`, and a WebP thumbnail to `thumb`,
 * when its turn comes at `gate` (one image per user at a time). Stops between steps, and never
 * starts, once `signal` has fired (the client went away).
 * GIFs are not re-encoded (that would hurt animations): their metadata blocks are cut out instead.
 */
export async function processImage (gate: ImageGate, userId: number, signal: AbortSignal,
  files: { src: string, dest: string, thumb: string }, mime: string): Promise<void> {
  const { src, dest, thumb } = files
  let meta: Metadata
  try {
    meta = await sharp(src, { limitInputPixels: false }).metadata()
  } catch {
    throw unreadable()
  }
  if (meta.format !== FORMATS[mime]) throw unreadable()
  const cost = imageCost(meta)
  if (cost.pixels > cost.maxPixels || cost.bytes > IMAGE_LIMITS.largeBytes) throw tooBig(meta, cost)
  const pages = meta.pages ?? 1
  const animated = pages > 1 && (mime === 'image/webp' || mime === 'image/gif')

  await gate.run(userId, cost.bytes, signal, async () => {
    try {
      signal.throwIfAborted()
      if (mime === 'image/gif') {
        await writeFile(dest, stripGifMetadata(await readFile(src)), { mode: 0o600 })
      } else {
        let image = open(src, cost.maxPixels, animated)
        if (!animated) image = image.autoOrient()
        // Without Huffman optimisation a JPEG is encoded as it streams, not held whole (10× less memory).
        if (mime === 'image/jpeg') image = image.jpeg({ quality: 90, optimiseCoding: false })
        else if (mime === 'image/png') image = image.png()
        else if (mime === 'image/webp') image = image.webp({ quality: 90 })
        else image = image.avif({ quality: 60, effort: 2 })
        await image.toFile(dest)
        await chmod(dest, 0o600) // sharp creates files world-readable
      }
      signal.throwIfAborted()
      // From the cleaned copy: already upright, first frame only.
      await open(dest, cost.maxPixels).resize({ width: THUMB_WIDTH, height: THUMB_MAX_HEIGHT, fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75 }).toFile(thumb)
      await chmod(thumb, 0o600)
    } catch (error) {
      if (signal.aborted) throw new Abandoned()
      asUploadError(error)
    }
  })
}
