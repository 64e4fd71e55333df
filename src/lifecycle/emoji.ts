// What a reaction may be (API.md "Emoji"): one grapheme that is an emoji (a pictograph with its
// modifiers and ZWJ sequence, a flag of two regional indicators, a keycap), at most 32 bytes.
import { isWellFormed } from '../text/names.js'

const MAX_BYTES = 32
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' })

const PICTOGRAPH = /\p{Extended_Pictographic}/u
const FLAG = /^\p{Regional_Indicator}{2}$/u
const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u
// Tags (subdivision flags) and variation selectors ride along; nothing else invisible or controlling may.
const FORBIDDEN = /[\p{Cc}\p{Zs}\p{Zl}\p{Zp}]|[\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069]/u

export function isReactionEmoji (text: string): boolean {
  // Length in UTF-16 first: a huge string is refused before it is segmented.
  if (text.length === 0 || text.length > MAX_BYTES || Buffer.byteLength(text) > MAX_BYTES) return false
  if (!isWellFormed(text) || FORBIDDEN.test(text)) return false
  let graphemes = 0
  for (const _ of segmenter.segment(text)) if (++graphemes > 1) return false
  return PICTOGRAPH.test(text) || FLAG.test(text) || KEYCAP.test(text)
}
