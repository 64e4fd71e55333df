// Byte ranges (RFC 9110 §14), so that a video can seek. One range only: a multi-range request
// gets the whole file, which the RFC allows, and a malformed header is ignored.

export type RangeResult = { start: number, end: number } | 'unsatisfiable' | null

/** The inclusive byte range asked for, `'unsatisfiable'`, or null for "send the whole file". */
export function parseRange (header: string | undefined, size: number): RangeResult {
  if (header === undefined) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return null
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return null
  if (first === '') { // the last N bytes
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}
