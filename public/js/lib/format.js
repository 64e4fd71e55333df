// Formatting in the user's own locale (the browser's default), plus avatar helpers.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' })
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' })
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })
const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' })

/** @param {Date} date */
export const formatTime = (date) => timeFormat.format(date)

/** @param {Date} date */
export const formatFull = (date) => fullFormat.format(date)

/** Local calendar day, used to decide where day separators go. @param {Date} date */
export const dayKey = (date) => `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`

/**
 * "Today", "Yesterday" or a full local date.
 * @param {Date} date
 * @param {Date} [now]
 */
export function formatDay (date, now = new Date()) {
  const yesterday = new Date(now)
  yesterday.setDate(now.getDate() - 1)
  if (dayKey(date) === dayKey(now)) return 'Today'
  if (dayKey(date) === dayKey(yesterday)) return 'Yesterday'
  return (date.getFullYear() === now.getFullYear() ? dayFormat : dayYearFormat).format(date)
}

/** @param {number} bytes */
export function formatSize (bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Up to two letters for an avatar: "alice" → "AL", "bob.smith" → "BS". @param {string} name */
export function initials (name) {
  const parts = name.split(/[._\-\s]+/).filter(Boolean)
  const letters = parts.length > 1 ? parts[0].charAt(0) + parts[1].charAt(0) : name.slice(0, 2)
  return letters.toUpperCase()
}

/** A stable palette slot (0–7) per name, so each person keeps one avatar color. @param {string} name */
export function colorSlot (name) {
  let hash = 0
  for (const ch of name.toLowerCase()) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0
  return hash % 8
}
