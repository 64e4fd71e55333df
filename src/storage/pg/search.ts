// The search index on PostgreSQL (migration 5): one row per indexed message, its keyed tokens in a
// GIN-indexed tsvector written as a literal (no parser or dictionary: the hex stays as it is).
// Word tokens carry their positions (phrases with <->, ts_rank); prefix tokens, marked with a `p`,
// carry none. Queries are tsquery text built from hex tokens only.
import type { SearchKeys } from '../../search/tokens.js'
import type { SearchStore } from '../store.js'
import type { IndexQuery, IndexTerm, IndexTokens, Message } from '../types.js'
import type { Sql } from './connect.js'
import { pgColumns, type PgMessageRow } from './messages.js'

const HEX = /^[0-9a-f]+$/
const FINGERPRINT = 'search_key'
/** tsvector's limits: positions up to 16383, at most 256 of them per lexeme. */
const MAX_POSITION = 16383
const MAX_POSITIONS = 256

const hex = (token: string): string => {
  if (!HEX.test(token)) throw new TypeError('search tokens are hex')
  return token
}

/** The tsvector literal for a message's tokens. */
export function tsvectorOf (tokens: IndexTokens): string {
  const positions = new Map<string, number[]>()
  tokens.words.slice(0, MAX_POSITION).forEach((token, i) => {
    const list = positions.get(hex(token)) ?? []
    if (list.length < MAX_POSITIONS) list.push(i + 1)
    positions.set(token, list)
  })
  const parts = [...positions].map(([token, list]) => `${token}:${list.join(',')}`)
  for (const token of new Set(tokens.prefixes)) parts.push(`p${hex(token)}`)
  return parts.join(' ')
}

/** tsquery text: each term a group of alternatives (a phrase's tokens joined by <->), all terms required. */
export function tsqueryOf (terms: readonly IndexTerm[]): string {
  return terms.map((term) => `(${term.alternatives.map((a) =>
    term.kind === 'prefix' ? `p${hex(a[0]!)}` : `(${a.map(hex).join(' <-> ')})`).join(' | ')})`).join(' & ')
}

type Row = PgMessageRow

export function createPgSearch (sql: Sql, toMessages: (rows: readonly Row[]) => Promise<Message[]>, keys: SearchKeys): SearchStore {
  const columns = pgColumns(sql)

  return {
    async keyFingerprint () {
      const [row] = await sql<Array<{ value: string }>>`SELECT value FROM meta WHERE key = ${FINGERPRINT}`
      return row?.value ?? null
    },
    async reset (fingerprint) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM message_search`
        await tx`INSERT INTO meta (key, value) VALUES (${FINGERPRINT}, ${fingerprint}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
      })
    },
    async replace (messageId, tokens) {
      await sql`INSERT INTO message_search (message_id, tokens)
        SELECT id, ${tsvectorOf(tokens)}::tsvector FROM messages WHERE id = ${messageId}
        ON CONFLICT (message_id) DO UPDATE SET tokens = excluded.tokens`
    },
    async remove (messageIds) {
      if (messageIds.length === 0) return
      await sql`DELETE FROM message_search WHERE message_id = ANY(${messageIds as number[]}::bigint[])`
    },
    async scan (afterId, limit, which) {
      const rows = which === 'all'
        ? await sql<Row[]>`SELECT ${columns} WHERE m.id > ${afterId} AND m.deleted_at IS NULL ORDER BY m.id LIMIT ${limit}`
        : await sql<Row[]>`SELECT ${columns} WHERE m.id > ${afterId} AND m.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.id) ORDER BY m.id LIMIT ${limit}`
      const messages = await toMessages(rows)
      return rows.map((row, i) => ({ message: messages[i]!, stamp: row.body }))
    },
    async write (entries) {
      if (entries.length === 0) return 0
      const written = await sql`INSERT INTO message_search (message_id, tokens)
        SELECT m.id, v.tokens::tsvector
        FROM unnest(${entries.map((e) => e.messageId)}::bigint[], ${entries.map((e) => e.stamp)}::text[], ${entries.map((e) => tsvectorOf(e.tokens))}::text[]) AS v (id, stamp, tokens)
        JOIN messages m ON m.id = v.id AND m.body = v.stamp
        ON CONFLICT (message_id) DO UPDATE SET tokens = excluded.tokens`
      return written.count
    },
    async writeNew (entries) {
      if (entries.length === 0) return 0
      return await sql.begin(async (tx) => {
        // Rebuildable from the messages: not worth waiting for the WAL flush (a crash may lose
        // this commit, never anything else; the next start's backfill writes it again).
        await tx`SET LOCAL synchronous_commit = off`
        const written = await tx`INSERT INTO message_search (message_id, tokens)
          SELECT m.id, v.tokens::tsvector
          FROM unnest(${entries.map((e) => e.messageId)}::bigint[], ${entries.map((e) => tsvectorOf(keys.forText(e.roomId, e.body)))}::text[]) AS v (id, tokens)
          JOIN messages m ON m.id = v.id AND m.edited_at IS NULL AND m.deleted_at IS NULL
          ON CONFLICT (message_id) DO NOTHING`
        return written.count
      })
    },
    async progress () {
      const [row] = await sql<Array<{ indexed: number, total: number }>>`SELECT
        (SELECT count(*) FROM message_search)::int AS indexed, (SELECT count(*) FROM messages WHERE deleted_at IS NULL)::int AS total`
      return { indexed: row!.indexed, total: row!.total }
    },
    async find (query: IndexQuery) {
      if (query.roomIds.length === 0) return []
      const before = query.before ?? Number.MAX_SAFE_INTEGER
      const author = query.authorName === null ? sql`` : sql`AND lower(u.username) = lower(${query.authorName})`
      let rows: Row[]
      if (query.terms.length === 0) {
        rows = await sql<Row[]>`SELECT ${columns} WHERE m.id < ${before} AND m.deleted_at IS NULL AND m.room_id = ANY(${query.roomIds}::int[]) ${author}
          ORDER BY m.id DESC LIMIT ${query.limit} OFFSET ${query.offset}`
      } else {
        const tsq = tsqueryOf(query.terms)
        const order = query.order === 'relevance' ? sql`ts_rank(s.tokens, ${tsq}::tsquery) DESC, m.id DESC` : sql`m.id DESC`
        rows = await sql<Row[]>`SELECT ${columns}
          JOIN message_search s ON s.message_id = m.id
          WHERE s.tokens @@ ${tsq}::tsquery AND m.id < ${before} AND m.deleted_at IS NULL AND m.room_id = ANY(${query.roomIds}::int[]) ${author}
          ORDER BY ${order} LIMIT ${query.limit} OFFSET ${query.offset}`
      }
      return await toMessages(rows)
    }
  }
}
