// The check of a candidate against its real (decrypted) text: the index may hold deliberate
// collisions and only looks up 4-character prefixes, so a hit counts only when every term is
// really there. The words matched also make the snippet and its highlights.
import type { Term } from './query.js'
import { words as wordsOf, type Word } from './text.js'

/** Indexes (into the message's words) of every word the terms matched; null when a term is missing. */
export function matchTerms (found: readonly Word[], terms: readonly Term[]): number[] | null {
  const hits = new Set<number>()
  for (const term of terms) {
    let any = false
    for (let i = 0; i < found.length; i++) {
      if (term.kind === 'word' ? found[i]!.text === term.word
        : term.kind === 'prefix' ? found[i]!.text.startsWith(term.prefix)
          : term.words.every((w, k) => found[i + k]?.text === w)) {
        any = true
        const length = term.kind === 'phrase' ? term.words.length : 1
        for (let k = 0; k < length; k++) hits.add(i + k)
      }
    }
    if (!any) return null
  }
  return [...hits].sort((a, b) => a - b)
}

export interface Snippet {
  snippet: string
  /** The matched words within `snippet`, in UTF-16 units, for the client to highlight. */
  highlights: Array<{ start: number, end: number }>
}

const BEFORE = 60
const LENGTH = 200

/** Plain text around the first match: up to 200 characters, cut at word edges, "…" where cut. */
export function snippetOf (text: string, found: readonly Word[], hits: readonly number[]): Snippet {
  if (text.length <= LENGTH) return { snippet: text, highlights: hits.map((i) => ({ start: found[i]!.start, end: found[i]!.end })) }
  // from: alone matches no word: the message's beginning.
  if (hits.length === 0) return { snippet: `${[...text].slice(0, LENGTH).join('')}…`, highlights: [] }
  const first = found[hits[0]!]!
  // Start at a word edge at most BEFORE units before the first match.
  let start = first.start
  for (const w of found) if (w.start >= first.start - BEFORE && w.start < start) start = w.start
  let end = Math.min(text.length, start + LENGTH)
  if (end < text.length) {
    const last = found.filter((w) => w.end <= end && w.start >= start).at(-1)
    if (last !== undefined && last.end > first.end) end = last.end
  }
  const lead = start > 0 ? '…' : ''
  // Both cuts are at word edges, so nothing needs trimming and offsets shift by one amount.
  const snippet = lead + text.slice(start, end) + (end < text.length ? '…' : '')
  const shift = lead.length - start
  const highlights = hits.map((i) => found[i]!).filter((w) => w.start >= start && w.end <= end)
    .map((w) => ({ start: w.start + shift, end: w.end + shift }))
  return { snippet, highlights }
}

/** Matches `text` against the terms: the snippet when every term is there, else null. */
export function verify (text: string, terms: readonly Term[]): Snippet | null {
  const found = wordsOf(text)
  const hits = matchTerms(found, terms)
  return hits === null ? null : snippetOf(text, found, hits)
}
