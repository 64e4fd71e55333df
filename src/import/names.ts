// What an imported name becomes when ours refuses it. Predictable, so the operator can tell users
// their new name before they try: accents dropped, spaces to `_`, anything else outside
// A–Z a–z 0–9 _ . - left out, cut to 32; `user<id>` when nothing is left; `_2`, `_3`... on a clash.
import { roomNameKey, roomNameProblem } from '../text/names.js'

export const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/
const MAX_USERNAME = 32

// Letters NFKD does not take apart into a base letter and an accent.
const SPELLED: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', đ: 'd', Đ: 'D', ł: 'l', Ł: 'L', þ: 'th', Þ: 'Th', ð: 'd', Ð: 'D', ı: 'i'
}

/** The name as our rules allow it, before any clash is looked at. */
export function usernameBase (raw: string, sourceId: number): string {
  let name = raw.normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^\x00-\x7f]/g, (c) => SPELLED[c] ?? c)
  name = name.trim().replace(/\s+/gu, '_').replace(/[^A-Za-z0-9_.-]/g, '')
  if (name === '') name = `user${sourceId}`
  else if (name.length < 3) name = `${name}_${sourceId}`
  return name.slice(0, MAX_USERNAME)
}

/**
 * The name this user gets here: their own when we allow it and nobody here has it (in any case),
 * else usernameBase with the first free `_N`. `taken` holds lower-case names and gains this one.
 */
export function chooseUsername (raw: string, sourceId: number, taken: Set<string>): string {
  let name = USERNAME.test(raw) ? raw : usernameBase(raw, sourceId)
  for (let n = 2; taken.has(name.toLowerCase()); n++) {
    const suffix = `_${n}`
    name = `${(USERNAME.test(raw) ? raw : usernameBase(raw, sourceId)).slice(0, MAX_USERNAME - suffix.length)}${suffix}`
  }
  taken.add(name.toLowerCase())
  return name
}

const MAX_ROOM_NAME = 64
// Control characters and the bidirectional controls our room names refuse (src/rooms/schemas.ts).
const REFUSED_IN_ROOM_NAME = /[\u0000-\u001f\u007f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

/** True when a new room could have this name here (the rules of POST /api/rooms). */
export function isAllowedRoomName (name: string): boolean {
  return name === name.trim() && name.length >= 1 && name.length <= MAX_ROOM_NAME &&
    !/[\u0000-\u001f\u007f]/.test(name) && roomNameProblem(name) === null
}

/** Cut to at most `max` UTF-16 units without splitting a character. */
function cut (text: string, max: number): string {
  let out = ''
  for (const c of text) {
    if (out.length + c.length > max) break
    out += c
  }
  return out
}

/** The room name we allow that is closest to the original's; `Room <id>` when none is. */
export function roomNameBase (raw: string, sourceId: number): string {
  const name = cut(raw.replace(REFUSED_IN_ROOM_NAME, '').replace(/\s+/gu, ' ').trim(), MAX_ROOM_NAME).trim()
  return name !== '' && roomNameProblem(name) === null ? name : `Room ${sourceId}`
}

/** `base`, or `base (2)`, `base (3)`... : the first whose key is not in `taken` (which gains it). */
export function chooseRoomName (base: string, taken: Set<string>): string {
  let name = base
  for (let n = 2; taken.has(roomNameKey(name)); n++) {
    const suffix = ` (${n})`
    name = `${cut(base, MAX_ROOM_NAME - suffix.length).trimEnd()}${suffix}`
  }
  taken.add(roomNameKey(name))
  return name
}

/** Topics: no control characters but line breaks, at most 512 (as POST /api/rooms). */
export const importTopic = (topic: string | null): string =>
  cut((topic ?? '').replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '').trim(), 512).trim()
