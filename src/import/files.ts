// An upload of the original (`/media/room_<id>/<uuid hex><ext>` under its media folder) made into
// one of ours by the same code as a new upload: copied into MEDIA_DIR first (the original's file
// is never changed), typed from its bytes, an image cleaned of its metadata and given a preview.
import { copyFile, lstat, realpath, rename, rm } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { AppError } from '../errors.js'
import type { Attachment, MediaRecord } from '../storage/index.js'
import type { ImageGate } from '../uploads/gate.js'
import { tempName } from '../uploads/names.js'
import { prepareUpload } from '../uploads/prepare.js'

export type FileOutcome =
  | { ok: true, attachment: Attachment, records: MediaRecord[], placed: string[] }
  | { ok: false, missing: boolean, reason: string }

/** The file `url` (a /media/... URL of the original) points at, or null when it points elsewhere. */
export function originalFile (mediaFrom: string, url: string): string | null {
  const m = /^\/?media\/(.+)$/.exec(url.trim())
  if (m === null) return null
  const parts = m[1]!.split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\u0000'))) return null
  return join(mediaFrom, ...parts)
}

const neverAborted = new AbortController().signal

export async function importFile (options: { mediaFrom: string, url: string, name: string, uploaderId: number, dir: string, images: ImageGate }): Promise<FileOutcome> {
  const path = originalFile(options.mediaFrom, options.url)
  if (path === null) return { ok: false, missing: false, reason: 'the path is not under /media/' }
  try {
    // A link could lead anywhere on this machine: only plain files inside the media folder are taken.
    if (!(await lstat(path)).isFile()) return { ok: false, missing: false, reason: 'not a plain file' }
    if (!(await realpath(path)).startsWith((await realpath(options.mediaFrom)) + sep)) return { ok: false, missing: false, reason: 'outside the media folder' }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return { ok: false, missing: true, reason: 'missing' }
    }
    throw error
  }
  const temps: string[] = []
  const placed: string[] = []
  try {
    const copy = join(options.dir, tempName())
    temps.push(copy)
    await copyFile(path, copy)
    if ((await lstat(copy)).size === 0) return { ok: false, missing: false, reason: 'The file is empty.' }
    const { files, attachment } = await prepareUpload({
      dir: options.dir, src: copy, filename: options.name, uploaderId: options.uploaderId, images: options.images, signal: neverAborted, temps
    })
    for (const f of files) {
      await rename(f.temp, join(options.dir, f.record.name))
      placed.push(f.record.name)
    }
    return { ok: true, attachment, records: files.map((f) => f.record), placed }
  } catch (error) {
    await removeStored(options.dir, placed)
    // Refused as a new upload would be (its type, a damaged or too large image): the message keeps its text.
    if (error instanceof AppError && error.code === 'unsupported_media_type') return { ok: false, missing: false, reason: error.message }
    throw error
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })))
  }
}

export async function removeStored (dir: string, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(join(dir, name), { force: true })))
}
