// Images: re-encoded without their metadata (EXIF with GPS, XMP, IPTC) after applying the EXIF
// orientation, and a small WebP preview. sharp works on libuv's thread pool, so the event loop
// stays free; a gate keeps at most two images in memory at once.
// @see https://sharp.pixelplumbing.com/api-output#withmetadata (metadata is dropped by default)
import { chmod, readFile, writeFile } from 'node:fs/promises'
import sharp, { type Metadata } from 'sharp'
import { AppError, errors } from '../errors.js'
import { GifError, stripGifMetadata } from './gif.js'

/** Pixel-flood guard (ASVS 5.2.6): larger images are refused before they are decoded. */
export const MAX_PIXELS = 50_000_000
export const THUMB_WIDTH = 480
export const THUMB_MAX_HEIGHT = 960

/** sharp's name for each image type we accept. */
const FORMATS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/avif': 'heif'
}

const tooBig = () => errors.unsupportedMediaType(`The image is too large: at most ${MAX_PIXELS / 1_000_000} megapixels.`)
const unreadable = () => errors.unsupportedMediaType('The image could not be read; it may be damaged.')

let running = 0
const waiting: Array<() => void> = []
async function gated<T> (work: () => Promise<T>): Promise<T> {
  // A finishing image hands its slot straight to the next waiter, so nobody can slip in between.
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve))
  else running++
  try {
    return await work()
  } finally {
    const next = waiting.shift()
    if (next !== undefined) next()
    else running--
  }
}

const open = (path: string, animated = false) =>
  sharp(path, { limitInputPixels: MAX_PIXELS, animated, failOn: 'error' })

function asUploadError (error: unknown): never {
  if (error instanceof AppError) throw error
  if (error instanceof GifError) throw unreadable()
  if (error instanceof Error && /pixel limit/i.test(error.message)) throw tooBig()
  throw unreadable()
}

/**
 * Writes a metadata-free copy of the image at `src` to `dest`, and a WebP thumbnail to `thumb`.
 * GIFs are not re-encoded (that would hurt animations): their metadata blocks are cut out instead.
 */
export async function processImage (src: string, dest: string, thumb: string, mime: string): Promise<void> {
  await gated(async () => {
    try {
      let meta: Metadata
      try {
        meta = await open(src).metadata()
      } catch {
        throw unreadable()
      }
      if (meta.format !== FORMATS[mime]) throw unreadable()
      const pages = meta.pages ?? 1
      if ((meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0) * pages > MAX_PIXELS) throw tooBig()
      const animated = pages > 1 && (mime === 'image/webp' || mime === 'image/gif')

      if (mime === 'image/gif') {
        await writeFile(dest, stripGifMetadata(await readFile(src)), { mode: 0o600 })
      } else {
        let image = open(src, animated)
        if (!animated) image = image.autoOrient()
        if (mime === 'image/jpeg') image = image.jpeg({ quality: 90 })
        else if (mime === 'image/png') image = image.png()
        else if (mime === 'image/webp') image = image.webp({ quality: 90 })
        else image = image.avif({ quality: 60, effort: 2 })
        await image.toFile(dest)
      }
      await chmod(dest, 0o600) // sharp creates files world-readable
      // From the cleaned copy: already upright, first frame only.
      await open(dest).resize({ width: THUMB_WIDTH, height: THUMB_MAX_HEIGHT, fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 75 }).toFile(thumb)
      await chmod(thumb, 0o600)
    } catch (error) {
      asUploadError(error)
    }
  })
}
