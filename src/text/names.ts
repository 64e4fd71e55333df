// The rules for text people choose and others read: well-formed Unicode everywhere, "blank" for
// bodies, and for room names a comparison key plus the refusals that stop look-alike names
// (UTS #39's ideas, kept small: no confusables table beyond a few letters).

// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate.
const LONE_SURROGATE = /\p{Cs}/u

/** False for ill-formed UTF-16 (a lone surrogate): SQLite would store it as invalid UTF-8. */
export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text)

// Nothing a reader can see on its own: white space, default-ignorable and format characters,
// combining marks without a letter, and the blank-looking U+2800 (Braille pattern blank).
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Z}\p{M}\u2800]/u

/** True when at least one character shows: "\u200b \u2060" is as empty as "". */
export const hasVisibleCharacter = (text: string): boolean => VISIBLE.test(text)

// Embeddings, overrides, isolates and the directional marks: they reorder what a reader sees.
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u
const LATIN = /\p{Script=Latin}/u
const CYRILLIC = /\p{Script=Cyrillic}/u
const GREEK = /\p{Script=Greek}/u

/** Why this room name is refused, or null. (Length and control characters are the schema's.) */
export function roomNameProblem (name: string): string | null {
  if (BIDI_CONTROL.test(name)) return 'must not hold bidirectional control characters'
  if (!hasVisibleCharacter(name)) return 'must hold at least one visible character'
  const scripts = Number(LATIN.test(name)) + Number(CYRILLIC.test(name)) + Number(GREEK.test(name))
  if (scripts > 1) return 'must not mix Latin, Cyrillic and Greek letters (they look alike)'
  return null
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu
// Accents of Latin, Greek and Cyrillic letters (the combining diacritical mark blocks): "Général",
// "Ge\u0301ne\u0301ral" and "General" are one name to a reader skimming a list.
const DIACRITICS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g
// Cyrillic and Greek letters that look like a Latin one in either case (names compare without
// case), so a name written wholly in one of those scripts cannot pass for a Latin one.
const LOOK_ALIKE_FROM = 'авеіјкмнорстухѕһԁԛԝӏαβεηικμνορτυχζ'
const LOOK_ALIKE_TO = 'abeijkmhopctyxshdqwlabehikmnoptyxz'
const LOOK_ALIKE = new Map([...LOOK_ALIKE_FROM].map((c, i) => [c, LOOK_ALIKE_TO[i]!]))
const LOOK_ALIKE_CHAR = new RegExp(`[${LOOK_ALIKE_FROM}]`, 'gu')

/**
 * The key room names are compared (and sorted) by: NFKC, case folding, no default-ignorable
 * characters, no accents, look-alike letters as their Latin twin, runs of white space as one.
 * `Ｇｅｎｅｒａｌ`, `Gen\u200beral`, `GENERAL` and `Ge\u0301neral` all give `general`.
 */
export function roomNameKey (name: string): string {
  // Upper then lower case folds more than lower case alone (ß → ss, ς → σ).
  const folded = name.replace(IGNORABLE, '').normalize('NFKC').toUpperCase().toLowerCase()
  return folded.normalize('NFKD').replace(DIACRITICS, '').replace(IGNORABLE, '').normalize('NFC')
    .replace(LOOK_ALIKE_CHAR, (c) => LOOK_ALIKE.get(c) ?? c)
    .replace(/\s+/gu, ' ').trim()
}
