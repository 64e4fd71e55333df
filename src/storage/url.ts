// DATABASE_URL picks the store by its scheme: postgres:// or postgresql:// → PostgreSQL;
// sqlite:///relative, sqlite:////absolute or a plain path (':memory:' too) → a SQLite file.
import { isAbsolute, resolve } from 'node:path'

export type DatabaseTarget = { kind: 'sqlite', path: string } | { kind: 'postgres', url: string }

/** Throws when the URL names no database (the caller turns that into a ConfigError). */
export function databaseTarget (url: string, cwd: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const parsed = new URL(url) // throws on a malformed URL
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new Error('no host in it')
    return { kind: 'postgres', url }
  }
  if (url === ':memory:') return { kind: 'sqlite', path: url }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('sqlite:///')) throw new Error('unknown scheme')
  const path = url.startsWith('sqlite:///') ? url.slice('sqlite:///'.length) : url
  if (path === '') throw new Error('no file in it')
  return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) }
}
