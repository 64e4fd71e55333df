// The PostgreSQL connection pool (postgres, porsager). int8 columns (message ids, counters, seq)
// come back as numbers: they stay far below 2^53.
import postgres from 'postgres'

const INT8 = 20

export function connectPg (url: string, options: { max?: number } = {}): Sql {
  // Typed as a plain pool: the custom type only changes how int8 is parsed.
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: 10,
    idle_timeout: 60,
    onnotice: () => {}, // "relation already exists, skipping" and the like
    types: {
      bigint: { to: INT8, from: [INT8], serialize: (value: number) => String(value), parse: (value: string) => Number(value) }
    }
  }) as unknown as Sql
}

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql
/** Anything that runs a query: the pool, or a transaction (for work that must commit with the caller's). */
export type Queries = postgres.ISql

/** timestamptz → the API's ISO form, exactly as SQLite stores it (milliseconds, Z). */
export const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString()
