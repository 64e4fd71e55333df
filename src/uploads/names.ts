// Names: the random ones we store files under, and the user's original name, cleaned for display
// and for Content-Disposition. Nothing from the user's name ever reaches the file system.
import { randomBytes } from 'node:crypto'

/** 128 random bits in lower-case hex (no two names fold together on a case-insensitive disk), then our extension. */
export const STORED_NAME = /^[0-9a-f]{32}\.[a-z0-9]{1,5}$/
/** Uploads in progress: dotfiles, which are never served and are removed at start. */
export const TEMP_PREFIX = '.tmp-'

export const storedName = (ext: string): string => `${randomBytes(16).toString('hex')}.${ext}`
export const tempName = (): string => `${TEMP_PREFIX}${randomBytes(16).toString('hex')}`

export const MAX_NAME_LENGTH = 200

// C0/C1 controls; bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and marks;
// zero-width characters and the BOM, which can hide a name's real ending.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * The user's file name, safe to show and to offer as a download name: no directories, hidden
 * characters or leading dots, at most 200 characters, and an extension that fits the detected
 * type (one is appended otherwise, so `notes.js` holding text downloads as `notes.js.txt`).
 */
export function cleanFileName (raw: string, ext: string, allowedExts: readonly string[]): string {
  let name = raw.replace(LONE_SURROGATE, '\ufffd').normalize('NFC').replace(/[\t\n\v\f\r]/g, ' ').replace(HIDDEN, '')
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
  name = name.replace(/\s+/g, ' ').replace(/^[\s.]+|[\s.]+$/g, '')
  if (name === '') name = 'file'
  const dot = name.lastIndexOf('.')
  const current = dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
  let suffix = ''
  if (allowedExts.includes(current)) {
    suffix = name.slice(dot)
    name = name.slice(0, dot)
  } else {
    suffix = `.${ext}`
  }
  const room = MAX_NAME_LENGTH - suffix.length
  const chars = [...name]
  if (chars.length > room) name = chars.slice(0, room).join('').replace(/[\s.]+$/, '')
  return `${name === '' ? 'file' : name}${suffix}`
}

/** RFC 6266 with an RFC 5987 `filename*` for the real name, and a plain ASCII fallback for old clients. */
export function contentDisposition (type: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
