// DATABASE_URL picks the store by its scheme: postgres:// or postgresql:// → PostgreSQL;
// sqlite:///relative, sqlite:////absolute or a plain path (':memory:' too) → a SQLite file.
import { isAbsolute, resolve } from 'node:path'
import { ConfigError } from '../config-error.js'

export type DatabaseTarget = { kind: 'sqlite', path: string } | { kind: 'postgres', url: string }

export const SQLITE_FORMS = 'sqlite:///relative/path.db, sqlite:////absolute/path.db or a plain file path'
export const DATABASE_FORMS = `postgres://user:password@host:5432/db, ${SQLITE_FORMS}`

/**
 * `sqlite:///relative`, `sqlite:////absolute` or a plain path (as the Python seed wrote it); a
 * driver suffix as in SQLAlchemy URLs (`sqlite+aiosqlite:///`) is SQLite too. Any other scheme
 * is refused: a path would otherwise quietly become a folder named after it.
 */
export function databasePath (url: string, cwd: string): string {
  let path = url
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]
  if (scheme !== undefined) {
    if (!/^sqlite(\+\w+)?$/i.test(scheme)) {
      throw new ConfigError('DATABASE_URL', `${DATABASE_FORMS}: this build does not support ${scheme}:// databases`)
    }
    path = url.slice(scheme.length + '://'.length)
    if (!path.startsWith('/')) throw new ConfigError('DATABASE_URL', `${SQLITE_FORMS} (three slashes before a relative path)`)
    path = path.slice(1)
  }
  if (path === ':memory:') return path
  if (path === '') throw new Error('no file in it')
  return isAbsolute(path) ? path : resolve(cwd, path)
}

/** Throws when the URL names no database (the caller turns that into a ConfigError). */
export function databaseTarget (url: string, cwd: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const parsed = new URL(url) // throws on a malformed URL
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new Error('no host in it')
    return { kind: 'postgres', url }
  }
  return { kind: 'sqlite', path: databasePath(url, cwd) }
}
