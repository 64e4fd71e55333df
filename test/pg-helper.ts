// PostgreSQL for tests: each caller gets a fresh schema of its own (a search_path in the URL), on
// the server at TEST_PG_URL (default: postgres@127.0.0.1:5432, trust auth, as .ci/run starts it).
// When PostgreSQL is not reachable, tests that need it fail: they are never skipped.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface TestSchema {
  /** A DATABASE_URL whose tables live in this schema only. */
  url: string
  name: string
  /** Runs SQL in the schema (to tamper with rows, or look at them). */
  sql: postgres.Sql
  drop: () => Promise<void>
}

function withSearchPath (url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('search_path', schema)
  return u.toString()
}

export async function createTestSchema (): Promise<TestSchema> {
  const name = `test_${process.pid}_${randomBytes(6).toString('hex')}`
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await admin.unsafe(`CREATE SCHEMA ${name}`)
  } catch (error) {
    await admin.end({ timeout: 1 })
    throw new Error(`PostgreSQL is needed for this test and is not reachable at ${PG_ADMIN_URL}: ${(error as Error).message}`)
  }
  const url = withSearchPath(PG_ADMIN_URL, name)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  return {
    url,
    name,
    sql,
    async drop () {
      await sql.end({ timeout: 1 })
      await admin.unsafe(`DROP SCHEMA ${name} CASCADE`)
      await admin.end({ timeout: 1 })
    }
  }
}
