// A search query as typed: words (all must match), "an exact phrase", a prefix `deplo*` and
// `from:username`. Each part is split into words exactly as message text is (text.ts), so a run
// without spaces (東京都, e-mail) becomes a phrase of its words.
import { words } from './text.js'

export type Term =
  | { kind: 'word', word: string }
  | { kind: 'phrase', words: string[] }
  | { kind: 'prefix', prefix: string }

export interface ParsedQuery {
  terms: Term[]
  /** from:username, as typed (usernames compare without regard to case). */
  from: string | null
}

/** A query the user can fix; the route answers 400 with this sentence. */
export class QueryError extends Error {}

export const MAX_TERMS = 10
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/

function termOf (text: string): Term | null {
  const found = words(text).map((w) => w.text)
  if (found.length === 0) return null
  return found.length === 1 ? { kind: 'word', word: found[0]! } : { kind: 'phrase', words: found }
}

export function parseQuery (q: string): ParsedQuery {
  const terms: Term[] = []
  let from: string | null = null
  // A quote left open runs to the end.
  for (const [, quoted, bare] of q.matchAll(/"([^"]*)"?|(\S+)/g)) {
    let term: Term | null
    if (quoted !== undefined) {
      term = termOf(quoted)
    } else if (/^from:/i.test(bare!)) {
      const name = bare!.slice(5)
      if (!USERNAME.test(name)) throw new QueryError('from: takes a username (3–32 letters, digits, _ . -).')
      if (from !== null && from.toLowerCase() !== name.toLowerCase()) throw new QueryError('Give from: once.')
      from = name
      continue
    } else if (bare!.endsWith('*')) {
      const stem = words(bare!.replace(/\*+$/, ''))
      if (stem.length !== 1 || [...stem[0]!.text].length < 2) throw new QueryError('A prefix is one word of at least 2 characters before the *, like deplo*.')
      term = { kind: 'prefix', prefix: stem[0]!.text }
    } else {
      term = termOf(bare!)
    }
    if (term === null) continue
    const key = JSON.stringify(term)
    if (terms.some((t) => JSON.stringify(t) === key)) continue
    terms.push(term)
  }
  if (terms.length > MAX_TERMS) throw new QueryError(`At most ${MAX_TERMS} words, phrases and prefixes in one search.`)
  if (terms.length === 0 && from === null) throw new QueryError('Search for at least one word (or from:username).')
  return { terms, from }
}
