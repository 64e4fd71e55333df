// `npm run bench -- --only=search` (also part of a full run), or on its own:
// `node --import tsx bench/search.ts [--messages=N] [--seconds=S] [--no-build] [--profile]`.
// Search over one room of N messages (1,000,000 in a full run) of Zipf-distributed words, on the
// real server (`node dist/server.js`, SQLite, production):
//   - backfill: the messages are seeded without tokens (a database from before search); the
//     server indexes them in the background after start: messages/s until health says done;
//   - one-word, two-word and prefix searches with 10 clients in closed loops: searches/s, p50, p99
//     (target: p99 < 50 ms and ≥ 200 searches/s one-word);
//   - durable sends (bench/loadgen.ts, 10 senders × window 32) on a server with the index and on
//     one with SEARCH_INDEX=off over a copy of the same seeded database, alternating, 3 runs each:
//     median acked msgs/s with ≥ 0.8× without (target).
// Printed, not in the BENCHMARKS table. The load runs on the same cores as the server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Fernet, FernetRing } from '../src/crypto/fernet.js'
import { openDatabase } from '../src/storage/database.js'
import type { NewMessage } from '../src/storage/index.js'
import { createMessagesRepo } from '../src/storage/messages.js'
import { createUnreadableRows } from '../src/storage/unreadable.js'
import { createUsersRepo } from '../src/storage/users.js'
import { freePort, sleep, spread, summarize, type Summary } from './lib.js'
import type { Scenario } from './loadgen.js'
import { formatTop } from './profile-summary.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const CLIENTS = 10
const DURABLE_ROUNDS = 3

/** A repeatable stream of numbers in [0, 1). */
function random (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 20,000 made-up words; rank r is drawn with probability ∝ 1/(r+1) (Zipf, like real text). */
function vocabulary (rand: () => number): { words: string[], draw: () => string } {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'de', 'pla', 'stro', 'en', 'ar', 'ol', 'ix', 'um', 'bre', 'qua', 'zen', 'fo']
  const seen = new Set<string>()
  while (seen.size < 20_000) {
    let w = ''
    const n = 2 + Math.floor(rand() * 3)
    for (let i = 0; i < n; i++) w += syllables[Math.floor(rand() * syllables.length)]
    seen.add(w)
  }
  const words = [...seen]
  const cumulative: number[] = []
  let sum = 0
  for (let r = 0; r < words.length; r++) cumulative.push(sum += 1 / (r + 1))
  const draw = (): string => {
    const x = rand() * sum
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return words[lo]!
  }
  return { words, draw }
}

interface Server { child: ChildProcess, url: string, stop: () => Promise<void> }

async function launch (dir: string, key: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'server.js')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: join(dir, 'chat.db'),
      MEDIA_DIR: join(dir, 'media'), ENCRYPTION_KEY: key, SECRET_KEY: 'bench-secret-that-is-long-enough-for-jwt-42', BCRYPT_COST: '4',
      MESSAGES_PER_SECOND: '0', CHANGES_PER_SECOND: '0', MAX_SOCKETS_PER_USER: '0', MAX_SOCKETS: '0', REGISTRATIONS_PER_HOUR: '0', LOG_LEVEL: 'warn', ...env
    }
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = performance.now() + 60_000
  for (;;) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break
    } catch {}
    if (performance.now() > deadline || child.exitCode !== null) throw new Error('the server did not start')
    await sleep(100)
  }
  return {
    child,
    url,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
}

async function register (url: string, name: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: 'bench-password-123' }) })
  if (!res.ok) throw new Error(`register: ${res.status}`)
  return ((await res.json()) as { token: string }).token
}

/** CLIENTS closed loops for `seconds`: searches/s and latency. */
async function searchLoad (url: string, tokens: string[], seconds: number, query: () => string): Promise<{ perSecond: number, latency: Summary, empty: number }> {
  const samples: number[] = []
  let empty = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    while (performance.now() < end) {
      const t0 = performance.now()
      const res = await fetch(`${url}/api/search?${new URLSearchParams({ q: query(), limit: '20' })}`, { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } })
      const body = await res.json() as { results?: unknown[] }
      if (!res.ok) throw new Error(`search: ${res.status} ${JSON.stringify(body)}`)
      samples.push(performance.now() - t0)
      if (body.results?.length === 0) empty++
    }
  }))
  return { perSecond: samples.length / seconds, latency: summarize(samples), empty }
}

async function durable (server: Server, tokens: string[], seconds: number): Promise<number> {
  const port = new URL(server.url).port
  const scenario: Scenario = {
    kind: 'durable', wsUrl: `ws://127.0.0.1:${port}/ws`, pid: server.child.pid!, tokens, roomId: 2,
    senders: 10, window: 32, subscribers: 10, durationMs: seconds * 1000, warmupMs: 1000, drainMs: 3000
  }
  const run = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'loadgen.ts'), JSON.stringify(scenario)], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 })
  const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { ackedPerSec?: number, failed?: string }
  if (result.ackedPerSec === undefined) throw new Error(`loadgen: ${result.failed ?? run.stderr}`)
  return result.ackedPerSec
}

export interface SearchBenchResult {
  messages: number
  seedSeconds: number
  backfillPerSecond: number
  oneWord: Awaited<ReturnType<typeof searchLoad>>
  twoWords: Awaited<ReturnType<typeof searchLoad>>
  prefix: Awaited<ReturnType<typeof searchLoad>>
  ackedWithIndex: number
  ackedWithout: number
}

/** @param profileDir given: the server with the index runs its searches and sends under --cpu-prof (written there when it stops). */
export async function searchBench (messages: number, seconds: number, profileDir?: string): Promise<SearchBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'secure-chat-bench-search-'))
  const bare = mkdtempSync(join(tmpdir(), 'secure-chat-bench-search-off-'))
  const key = Fernet.generateKey()
  const rand = random(42)
  const vocab = vocabulary(rand)
  const servers: Server[] = []
  try {
    // Seeded without tokens: what a database from before search holds.
    const t0 = performance.now()
    const ring = new FernetRing([key])
    const db = openDatabase(join(dir, 'chat.db'), ring)
    const user = createUsersRepo(db).create('bench-search', 'not used')!
    const repo = createMessagesRepo(db, ring, createUnreadableRows())
    for (let done = 0; done < messages; done += 5000) {
      const batch: NewMessage[] = []
      for (let i = done; i < Math.min(messages, done + 5000); i++) {
        const n = 8 + Math.floor(rand() * 13)
        batch.push({ roomId: 1, author: { id: user.id, username: user.username }, body: Array.from({ length: n }, vocab.draw).join(' ') })
      }
      for (const r of repo.insertBatch(batch)) if (!r.ok) throw r.error
    }
    db.close()
    const seedSeconds = (performance.now() - t0) / 1000
    // The same messages for the server without the index: only the index differs between the two.
    copyFileSync(join(dir, 'chat.db'), join(bare, 'chat.db'))

    const started = performance.now()
    let server = await launch(dir, key)
    servers.push(server)
    for (;;) {
      const health = await (await fetch(`${server.url}/api/health`)).json() as { searchIndex: { indexed: number, total: number } }
      if (health.searchIndex.indexed >= health.searchIndex.total) break
      await sleep(250)
    }
    const backfillPerSecond = messages / ((performance.now() - started) / 1000)
    if (profileDir !== undefined) {
      // Started again under the profiler, with the index complete: the profile holds searches and sends, not the backfill.
      await server.stop()
      server = await launch(dir, key, {}, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])
      servers.push(server)
    }
    const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => register(server.url, `bench_search_${i}`)))
    // Mid-frequency words (ranks 50–2000): common enough to have hits, rare enough to be a search.
    const mid = (): string => vocab.words[50 + Math.floor(rand() * 1950)]!
    const oneWord = await searchLoad(server.url, tokens, seconds, mid)
    const twoWords = await searchLoad(server.url, tokens, seconds, () => `${mid()} ${mid()}`)
    const prefix = await searchLoad(server.url, tokens, seconds, () => `${mid().slice(0, 4)}*`)

    const off = await launch(bare, key, { SEARCH_INDEX: 'off' })
    servers.push(off)
    const offTokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => register(off.url, `bench_search_${i}`)))
    // Alternating, so that the machine's slower moments fall on both sides.
    const withIndex: number[] = []
    const without: number[] = []
    for (let round = 0; round < DURABLE_ROUNDS; round++) {
      withIndex.push(await durable(server, tokens, seconds))
      without.push(await durable(off, offTokens, seconds))
    }
    const ackedWithIndex = spread(withIndex)!.median
    const ackedWithout = spread(without)!.median
    return { messages, seedSeconds, backfillPerSecond, oneWord, twoWords, prefix, ackedWithIndex, ackedWithout }
  } finally {
    for (const s of servers) await s.stop()
    rmSync(dir, { recursive: true, force: true })
    rmSync(bare, { recursive: true, force: true })
  }
}

export function describeSearch (r: SearchBenchResult): string {
  const line = (name: string, s: SearchBenchResult['oneWord']): string =>
    `  ${name}: ${s.perSecond.toFixed(0)} searches/s, p50 ${s.latency.p50.toFixed(1)} ms, p99 ${s.latency.p99.toFixed(1)} ms (${s.latency.count} searches, ${s.empty} without hits)`
  const ratio = r.ackedWithIndex / r.ackedWithout
  return [
    `search (${r.messages.toLocaleString('en-US')} messages in one room, ${CLIENTS} clients; seeded in ${r.seedSeconds.toFixed(1)} s):`,
    `  backfill: ${r.backfillPerSecond.toFixed(0)} messages/s (server start to index complete)`,
    line('one word', r.oneWord) + ` — target p99 < 50 ms and ≥ 200/s: ${r.oneWord.latency.p99 < 50 && r.oneWord.perSecond >= 200 ? 'met' : 'NOT met'}`,
    line('two words', r.twoWords),
    line('prefix (4 letters*)', r.prefix),
    `  durable sends: ${r.ackedWithIndex.toFixed(0)} acked msgs/s with the index, ${r.ackedWithout.toFixed(0)} without (SEARCH_INDEX=off, same messages), medians of ${DURABLE_ROUNDS} alternating runs: ${ratio.toFixed(2)}× — target ≥ 0.8×: ${ratio >= 0.8 ? 'met' : 'NOT met'}`
  ].join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  if (!process.argv.includes('--no-build')) {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
    if (build.status !== 0) process.exit(1)
  }
  const profileDir = process.argv.includes('--profile') ? join(ROOT, 'bench', 'results', 'profiles', `search-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined
  searchBench(Number(arg('messages') ?? 1_000_000), Number(arg('seconds') ?? 5), profileDir)
    .then((r) => {
      console.log(describeSearch(r))
      if (profileDir !== undefined) {
        // One file per thread; the main thread's is the largest.
        const files = readdirSync(profileDir).map((f) => join(profileDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)
        if (files[0] !== undefined) console.log(formatTop(files[0], 40))
      }
    }, (error: unknown) => { console.error(error); process.exit(1) })
}
