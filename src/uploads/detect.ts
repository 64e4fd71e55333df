// What an upload is, decided from its bytes (file-type's magic numbers, then a UTF-8 check for
// plain text) and never from the client's name or Content-Type. Only the types below are kept;
// anything a browser would run (HTML, SVG, XML) is refused outright.
import { createReadStream } from 'node:fs'
import { fileTypeFromFile } from 'file-type'
import { errors } from '../errors.js'
import type { AttachmentKind } from '../storage/index.js'
import { isMpegAudio } from './mpeg.js'

export interface FileType {
  /** What we store and serve it as. */
  mime: string
  kind: AttachmentKind
  /** Extension of the stored file. */
  ext: string
  /** Extensions the user's own file name may keep (else `ext` is appended to it). */
  exts: readonly string[]
}

const t = (mime: string, kind: AttachmentKind, ext: string, ...aliases: string[]): FileType =>
  ({ mime, kind, ext, exts: [ext, ...aliases] })

/** file-type's answer → how we keep it. */
const ACCEPTED: ReadonlyMap<string, FileType> = new Map([
  ['image/jpeg', t('image/jpeg', 'image', 'jpg', 'jpeg', 'jpe', 'jfif')],
  ['image/png', t('image/png', 'image', 'png')],
  ['image/apng', t('image/png', 'image', 'png', 'apng')], // re-encoded: the first frame is kept
  ['image/gif', t('image/gif', 'image', 'gif')],
  ['image/webp', t('image/webp', 'image', 'webp')],
  ['image/avif', t('image/avif', 'image', 'avif')],
  // file-type cannot tell audio-only WebM from video: it is always `video` (a <video> plays both).
  ['video/mp4', t('video/mp4', 'video', 'mp4', 'm4v')],
  ['video/webm', t('video/webm', 'video', 'webm', 'weba')],
  ['video/ogg', t('video/ogg', 'video', 'ogv', 'ogg')],
  ['audio/mpeg', t('audio/mpeg', 'audio', 'mp3')],
  ['audio/ogg', t('audio/ogg', 'audio', 'ogg', 'oga')],
  ['audio/ogg; codecs=opus', t('audio/ogg', 'audio', 'opus', 'ogg', 'oga')],
  ['audio/wav', t('audio/wav', 'audio', 'wav')],
  ['audio/x-m4a', t('audio/mp4', 'audio', 'm4a')],
  // Everything else is a download (Content-Disposition: attachment).
  ['application/pdf', t('application/pdf', 'file', 'pdf')],
  ['application/zip', t('application/zip', 'file', 'zip')],
  ['application/gzip', t('application/gzip', 'file', 'gz', 'tgz')],
  ['application/x-tar', t('application/x-tar', 'file', 'tar')],
  ['application/x-bzip2', t('application/x-bzip2', 'file', 'bz2')],
  ['application/x-xz', t('application/x-xz', 'file', 'xz')],
  ['application/zstd', t('application/zstd', 'file', 'zst')],
  ['application/x-7z-compressed', t('application/x-7z-compressed', 'file', '7z')],
  ['application/x-rar-compressed', t('application/vnd.rar', 'file', 'rar')],
  ['application/epub+zip', t('application/epub+zip', 'file', 'epub')],
  ['application/rtf', t('application/rtf', 'file', 'rtf')],
  ['application/x-cfb', t('application/x-cfb', 'file', 'cfb', 'doc', 'xls', 'ppt', 'msg')], // Office 97–2003
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', t('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'file', 'docx')],
  ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', t('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'file', 'xlsx')],
  ['application/vnd.openxmlformats-officedocument.presentationml.presentation', t('application/vnd.openxmlformats-officedocument.presentationml.presentation', 'file', 'pptx')],
  ['application/vnd.oasis.opendocument.text', t('application/vnd.oasis.opendocument.text', 'file', 'odt')],
  ['application/vnd.oasis.opendocument.spreadsheet', t('application/vnd.oasis.opendocument.spreadsheet', 'file', 'ods')],
  ['application/vnd.oasis.opendocument.presentation', t('application/vnd.oasis.opendocument.presentation', 'file', 'odp')],
  ['video/quicktime', t('video/quicktime', 'file', 'mov')],
  ['video/matroska', t('video/x-matroska', 'file', 'mkv')],
  ['audio/flac', t('audio/flac', 'file', 'flac')],
  ['audio/aac', t('audio/aac', 'file', 'aac')],
  ['text/calendar', t('text/calendar', 'file', 'ics')],
  ['text/vcard', t('text/vcard', 'file', 'vcf')],
  ['text/vtt', t('text/vtt', 'file', 'vtt')]
])

/** UTF-8 text with no magic number. Script and source files are text too: they download as `.txt`. */
export const PLAIN_TEXT = t('text/plain', 'file', 'txt', 'text', 'md', 'markdown', 'csv', 'tsv', 'log', 'json', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'srt')

/** Types that render as active documents in a browser: refused, whatever they are called. */
const ACTIVE = new Set(['application/xml', 'image/svg+xml', 'text/html', 'application/xhtml+xml', 'application/x-shockwave-flash'])

const refuseActive = () => errors.unsupportedMediaType('HTML, SVG, XML and other files a browser would run cannot be shared; put them in a zip archive.')

/** The type of the file at `path`, or an `unsupported_media_type` AppError. */
export async function detectType (path: string): Promise<FileType> {
  const found = await fileTypeFromFile(path)
  if (found !== undefined) {
    if (ACTIVE.has(found.mime)) throw refuseActive()
    const type = ACCEPTED.get(found.mime)
    if (type?.mime === 'audio/mpeg' && !(await isMpegAudio(path))) {
      throw errors.unsupportedMediaType('This file starts like an MP3 but holds no audio stream, so it cannot be shared.')
    }
    if (type !== undefined) return type
    if (found.mime === 'image/heic' || found.mime === 'image/heif') {
      throw errors.unsupportedMediaType('HEIC photos cannot be shared yet (their location data cannot be removed here): export the photo as JPEG.')
    }
    throw errors.unsupportedMediaType(`Files of this type (${found.ext}) cannot be shared. Images, audio, video, PDF, office documents, archives and plain text can.`)
  }
  const text = await readText(path)
  if (text === null) throw errors.unsupportedMediaType('This file type is not recognised, so it cannot be shared. Images, audio, video, PDF, office documents, archives and plain text can.')
  // What a browser's sniffer (or a user opening the download) would take for markup: HTML, SVG, XML.
  if (/^<[!?/a-z]/i.test(text)) throw refuseActive()
  return PLAIN_TEXT
}

/** The start of the file if the whole file is UTF-8 text without control characters, else null. */
async function readText (path: string): Promise<string | null> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let head = ''
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      const text = decoder.decode(chunk as Buffer, { stream: true })
      // NUL and the other C0 controls (except tab, line feeds, form feed) and DEL mean binary.
      if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return null
      if (head.length < 1024) head += text.slice(0, 1024)
    }
    decoder.decode()
  } catch {
    return null
  }
  return head.trimStart()
}
