// The media folder while the server runs: an operator may remove it, replace it or mount it
// read-only. Uploads then answer 503 `media_unavailable` (never a 500, never a 415), the folder is
// made again when it can be, and /api/health tells its state.
import { constants } from 'node:fs'
import { access, mkdir, stat } from 'node:fs/promises'
import { AppError } from '../errors.js'

export type MediaState = 'ok' | 'missing' | 'read_only' | 'not_a_directory'

/** What an upload would find in MEDIA_DIR now. Changes nothing. */
export async function mediaState (dir: string): Promise<MediaState> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'not_a_directory'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'missing' : code === 'ENOTDIR' ? 'not_a_directory' : 'read_only'
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK)
    return 'ok'
  } catch {
    return 'read_only'
  }
}

export const mediaUnavailable = (): AppError => new AppError('media_unavailable',
  'Uploads are unavailable: the server cannot write to its media folder. Try again later (the operator can see why in /api/health).',
  undefined, { 'Retry-After': '30' })

/** File-system errors that mean the folder is gone or unwritable, not that the upload is bad. */
const FOLDER_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'EACCES', 'EPERM', 'EEXIST'])

export function isFolderError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && FOLDER_ERRORS.has(code)
}

/** Makes the folder again if it was removed (0700, like at start); throws media_unavailable when it cannot be written. */
export async function ensureMediaDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.W_OK | constants.X_OK)
  } catch {
    throw mediaUnavailable()
  }
}
