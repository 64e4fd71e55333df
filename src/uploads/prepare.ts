// An upload's stored files, made from bytes already on disk: typed from the bytes (never from the
// name), the name cleaned, an image re-encoded without its metadata and given a preview. The same
// path for a new upload (plugin.ts) and for one brought in by `npm run import`.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Attachment, MediaRecord } from '../storage/index.js'
import { detectType } from './detect.js'
import type { ImageGate } from './gate.js'
import { processImage } from './images.js'
import { cleanFileName, storedName, tempName } from './names.js'

export interface PreparedUpload {
  /** Files in MEDIA_DIR under temp names, and the rows they become once moved to `record.name`. */
  files: Array<{ temp: string, record: MediaRecord }>
  attachment: Attachment
}

export interface UploadSource {
  /** MEDIA_DIR: temp files are made there, so moving them into place is a rename. */
  dir: string
  /** A temp file in `dir` holding the bytes; it becomes the stored file unless it is an image. */
  src: string
  /** The name the sender gave, raw. */
  filename: string
  uploaderId: number
  images: ImageGate
  /** Fires when nobody waits for the result any more (the client went away). */
  signal: AbortSignal
  /** Temp files made here are added, for the caller to remove whatever happens. */
  temps: string[]
}

/** Throws AppError (`unsupported_media_type`, `insufficient_storage`...) as a new upload would answer. */
export async function prepareUpload (source: UploadSource): Promise<PreparedUpload> {
  const { dir, src, uploaderId, temps } = source
  const type = await detectType(src)
  const originalName = cleanFileName(source.filename, type.ext, type.exts)

  const files: PreparedUpload['files'] = []
  const add = async (temp: string, mime: string, ext: string, name: string) => {
    const record = { name: storedName(ext), mime, originalName: name, size: (await stat(temp)).size, uploaderId }
    files.push({ temp, record })
    return record
  }
  let main: MediaRecord
  let thumb: MediaRecord | undefined
  if (type.kind === 'image') {
    const clean = join(dir, tempName())
    const preview = join(dir, tempName())
    temps.push(clean, preview)
    await processImage(source.images, uploaderId, source.signal, { src, dest: clean, thumb: preview }, type.mime)
    main = await add(clean, type.mime, type.ext, originalName)
    thumb = await add(preview, 'image/webp', 'webp', `${originalName.replace(/\.[^.]*$/, '')}-preview.webp`)
  } else {
    main = await add(src, type.mime, type.ext, originalName)
  }
  const attachment: Attachment = { url: `/media/${main.name}`, name: originalName, mime: main.mime, size: main.size, kind: type.kind }
  if (thumb !== undefined) attachment.thumbnailUrl = `/media/${thumb.name}`
  return { files, attachment }
}
