// Storage that cannot work, found at start: a folder where the database file should be, a file
// where a folder should be, a read-only mount, no permission. Each becomes one line that names
// the path and says what to do, instead of a stack trace from deep inside SQLite or fs.
import { accessSync, constants, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { userInfo } from 'node:os'

/** The message is the one line the process prints before it exits. */
export class StorageProblem extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'StorageProblem'
  }
}

export interface Place {
  /** What it is, for the message: 'the database', 'the media folder'. */
  what: string
  /** The setting that moves it. */
  setting: string
  kind: 'file' | 'folder'
}

function errno (error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code
}

function who (): string {
  try {
    return `user ${userInfo().username}`
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

/** Why this user cannot create or write files in `dir` (an existing folder), or null. */
function unwritableFolder (dir: string, place: Place, path: string): StorageProblem | null {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK)
    return null
  } catch (error) {
    if (errno(error) === 'EROFS') {
      return new StorageProblem(`Cannot write ${place.what} ${path}: ${dir} is on a read-only file system. Put it on writable storage (set ${place.setting}), or remount that file system read-write.`)
    }
    return new StorageProblem(`Cannot write ${place.what} ${path}: ${who()} may not write in ${dir}. Give that user write access to the folder (chown or chmod), or set ${place.setting} to a place it can write.`)
  }
}

/** The first reason `path` cannot be used as `place`, by looking at the file system; null if none is seen. */
export function findProblem (path: string, place: Place): StorageProblem | null {
  let stats
  try {
    stats = statSync(path)
  } catch (error) {
    if (errno(error) !== 'ENOENT' && errno(error) !== 'ENOTDIR') throw error
  }
  if (stats !== undefined) {
    if (place.kind === 'file' && stats.isDirectory()) {
      return new StorageProblem(`${place.what[0]!.toUpperCase()}${place.what.slice(1)} ${path} is a folder, not a file. Set ${place.setting} to a file, e.g. ${path}/chat.db.`)
    }
    if (place.kind === 'folder' && !stats.isDirectory()) {
      return new StorageProblem(`${place.what[0]!.toUpperCase()}${place.what.slice(1)} ${path} is a file, not a folder. Move that file away, or set ${place.setting} to a folder.`)
    }
    if (place.kind === 'folder') return unwritableFolder(path, place, path)
    try {
      accessSync(path, constants.R_OK | constants.W_OK)
    } catch (error) {
      if (errno(error) !== 'EROFS') {
        return new StorageProblem(`Cannot write ${place.what} ${path}: ${who()} may not write it. Give that user write access (chown or chmod), or set ${place.setting} to a file it can write.`)
      }
    }
    // SQLite also creates files beside the database (-wal, -shm).
    return unwritableFolder(dirname(path), place, path)
  }
  // Missing: it will be created in its nearest existing ancestor, which must be a writable folder.
  let ancestor = dirname(path)
  while (true) {
    try {
      if (!statSync(ancestor).isDirectory()) {
        return new StorageProblem(`Cannot create ${place.what} ${path}: ${ancestor} is a file, not a folder. Move that file away, or set ${place.setting} to another place.`)
      }
      return unwritableFolder(ancestor, place, path)
    } catch (error) {
      if ((errno(error) !== 'ENOENT' && errno(error) !== 'ENOTDIR') || dirname(ancestor) === ancestor) throw error
      ancestor = dirname(ancestor)
    }
  }
}

/** Throws a StorageProblem when `path` cannot be used as `place`. */
export function checkPlace (path: string, place: Place): void {
  const problem = findProblem(path, place)
  if (problem !== null) throw problem
}

/** An error met while opening `path`, as one line: what the file system shows, or what went wrong. */
export function explain (error: unknown, path: string, place: Place): StorageProblem {
  if (error instanceof StorageProblem) return error
  let found: StorageProblem | null = null
  try {
    found = findProblem(path, place)
  } catch {}
  if (found !== null) return found
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]
  return new StorageProblem(`Cannot open ${place.what} ${path}: ${message}. Check that ${place.setting} points where you mean and that the server's user can write there.`)
}
