// Search over the encrypted history: the query's terms become each readable room's tokens, the
// index gives candidates (newest first, or ranked), every candidate is decrypted and checked
// against its real text (removing the index's deliberate collisions and what a 4-character
// prefix token over-matches), and the snippet is made from that text. Authorization is
// conversations/access.ts: only rooms the caller may read are ever asked for.
import { readableRoomIds, roomAccess, type Caller } from '../conversations/access.js'
import type { Message, Storage } from '../storage/index.js'
import type { IndexTerm } from '../storage/types.js'
import { verify, type Snippet } from './match.js'
import { parseQuery, type Term } from './query.js'
import type { LiveIndex } from './live.js'
import type { SearchKeys } from './tokens.js'

export interface SearchParams {
  q: string
  roomId?: number
  limit: number
  before?: number
  sort: 'newest' | 'relevance'
}

export interface SearchResult extends Snippet {
  message: Message
}

/** Candidates checked for one page at most: a page past that many non-matches answers hasMore. */
const MAX_CHECKED = 5000
const LARGEST_BATCH = 400
const FIRST_BATCH_SPARE = 4

function indexTerm (keys: SearchKeys, roomIds: readonly number[], term: Term): IndexTerm {
  switch (term.kind) {
    case 'word': return { kind: 'words', alternatives: roomIds.map((r) => [keys.word(r, term.word)]) }
    case 'phrase': return { kind: 'words', alternatives: roomIds.map((r) => term.words.map((w) => keys.word(r, w))) }
    case 'prefix': return { kind: 'prefix', alternatives: roomIds.map((r) => [keys.prefix(r, term.prefix)]) }
  }
}

export function createSearchService (storage: Storage, keys: SearchKeys, live: LiveIndex | null = null) {
  return {
    /** Throws QueryError for a query that cannot be searched, room_not_found for a room the caller may not read. */
    async search (user: Caller, params: SearchParams): Promise<{ results: SearchResult[], hasMore: boolean }> {
      const parsed = parseQuery(params.q)
      // Messages this node stored a moment ago are found too: a sender searches what they just said.
      await live?.settled()
      const roomIds = params.roomId !== undefined ? [(await roomAccess(storage, user, params.roomId)).room.id] : await readableRoomIds(storage, user)
      const terms = parsed.terms.map((t) => indexTerm(keys, roomIds, t))
      const results: SearchResult[] = []
      let before = params.before ?? null
      let offset = 0
      let checked = 0
      // Most candidates are real matches (24-bit tokens collide rarely; a prefix over-matches
      // more): ask for a page and a little more, and for more only when the check rejects some.
      let batch = Math.min(LARGEST_BATCH, params.limit + 1 + FIRST_BATCH_SPARE)
      for (;;) {
        const candidates = await storage.search.find({ terms, roomIds, authorName: parsed.from, before, order: params.sort, limit: batch, offset })
        for (const message of candidates) {
          checked++
          // Tombstones (deletes) hold no text and so never match; unreadable rows neither.
          if (message.unreadable === true || (message as { deletedAt?: string | null }).deletedAt != null) continue
          const snippet = verify(message.body, parsed.terms)
          if (snippet !== null) results.push({ message, ...snippet })
          if (results.length > params.limit) break
        }
        if (results.length > params.limit || candidates.length < batch) break
        // More checked than a page should cost: say there is more; the next page goes on from here.
        if (checked >= MAX_CHECKED) return { results: results.slice(0, params.limit), hasMore: true }
        if (params.sort === 'relevance') offset += batch
        else before = candidates.at(-1)!.id
        batch = Math.min(LARGEST_BATCH, batch * 2)
      }
      return { results: results.slice(0, params.limit), hasMore: results.length > params.limit }
    }
  }
}

export type SearchService = ReturnType<typeof createSearchService>
