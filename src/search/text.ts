// The words of a text, as the index and the query both see them: split on Unicode word boundaries
// (Intl.Segmenter, which also splits Japanese and Chinese, written without spaces), then each word
// normalized: NFKC (full-width letters, ligatures), lower case, and Latin accents stripped, so
// `cafe` finds `Café`. Index, query and the check of a candidate's real text all use `words`, so
// they always agree on what a word is.

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' })

/** Combining marks of Latin, Greek and Cyrillic accents only: kana voicing marks (U+3099) stay, or が would find か. */
const ACCENTS = /[\u0300-\u036f]/g

/** One word as stored and compared; '' when nothing of it is left (a lone accent). */
export function normalizeWord (segment: string): string {
  return segment.normalize('NFKC').toLowerCase().replaceAll('ß', 'ss')
    .normalize('NFD').replace(ACCENTS, '').normalize('NFC')
}

export interface Word {
  /** Normalized. */
  text: string
  /** Where the word is in the original text, in UTF-16 units, for snippets. */
  start: number
  end: number
}

/** Longest word indexed: longer runs (a pasted key, a URL's path) are no words anyone types. */
export const MAX_WORD = 64

/** The words of `text` in order, with where each was found. */
export function words (text: string): Word[] {
  const found: Word[] = []
  for (const s of segmenter.segment(text)) {
    if (s.isWordLike !== true) continue
    const normalized = normalizeWord(s.segment)
    if (normalized === '' || [...normalized].length > MAX_WORD) continue
    found.push({ text: normalized, start: s.index, end: s.index + s.segment.length })
  }
  return found
}

/** The first `n` characters (code points) of a word. */
export function prefixOf (word: string, n: number): string {
  return [...word].slice(0, n).join('')
}
