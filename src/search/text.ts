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

const SPACE = /\s+/g
/** Punctuation that, at either end of a run between spaces, is never part of a word (UAX #29). */
const EDGE = /^[()[\]{}"'.,!?;:<>*]+|[()[\]{}"'.,!?;:<>*]+$/g
const PLAIN = /^[A-Za-z0-9]+$/

/**
 * The words of `text` in order, with where each was found. Intl.Segmenter is slow (a tenth of a
 * millisecond for a chat line), and most runs between spaces are plain ASCII words, where it could
 * only find one word: those are taken as they are, the others segmented run by run. Word
 * boundaries never cross white space, so the result is the segmenter's on the whole text.
 */
export function words (text: string): Word[] {
  const found: Word[] = []
  const add = (segment: string, start: number, normalized: string): void => {
    if (normalized === '' || normalized.length > MAX_WORD * 2 || [...normalized].length > MAX_WORD) return
    found.push({ text: normalized, start, end: start + segment.length })
  }
  let at = 0
  for (const run of text.split(SPACE)) {
    const start = text.indexOf(run, at)
    at = start + run.length
    if (run === '') continue
    let lead = 0
    const core = run.replace(EDGE, (edge, offset: number) => {
      if (offset === 0) lead = edge.length
      return ''
    })
    if (PLAIN.test(core)) {
      add(core, start + lead, core.toLowerCase())
      continue
    }
    for (const s of segmenter.segment(run)) {
      if (s.isWordLike === true) add(s.segment, start + s.index, normalizeWord(s.segment))
    }
  }
  return found
}

const ASCII = /^[\x00-\x7f]*$/

/** The first `n` characters (code points) of a word. */
export function prefixOf (word: string, n: number): string {
  return ASCII.test(word) ? word.slice(0, n) : [...word].slice(0, n).join('')
}

/** Length in characters (code points). */
export function lengthOf (word: string): number {
  return ASCII.test(word) ? word.length : [...word].length
}
