// The original stores `datetime.utcnow()`: naive UTC, written by SQLAlchemy as
// `2025-06-01 10:00:00.123456`. Ours are ISO 8601 in UTC with milliseconds, as toISOString writes.

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

// SQLAlchemy's usual form. Only the day needs checking (hours and minutes are checked by the
// pattern), and a history has few distinct days.
const USUAL = /^(\d{4}-\d{2}-\d{2}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d)\.(\d{3})\d{3}$/
const validDays = new Map<string, boolean>()

/** The instant as ours are written, or null when this is not a date and time. Naive means UTC. */
export function importTime (value: unknown): string | null {
  if (typeof value !== 'string') return null
  const usual = USUAL.exec(value)
  if (usual !== null) {
    const day = usual[1]!
    let valid = validDays.get(day)
    if (valid === undefined) {
      valid = importTime(`${day} 00:00:00Z`) !== null
      if (validDays.size < 100_000) validDays.set(day, valid)
    }
    return valid ? `${day}T${usual[2]}:${usual[3]}:${usual[4]}.${usual[5]}Z` : null
  }
  const m = STAMP.exec(value.trim())
  if (m === null) return null
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number]
  const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000)
  let time = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  const check = new Date(time)
  // Date.UTC rolls 2025-02-30 over into March: such a stamp is not a date.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null
  const zone = m[8]
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000
  }
  return new Date(time).toISOString()
}
