// `npm run bench -- --only=nodes` (also part of a full run), or on its own:
// `node --import tsx bench/nodes.ts [--quick]` (after `npm run build`). Several nodes, two figures:
//
// 1. One node on PostgreSQL vs one node on SQLite: durable acked msgs/s (the durable scenario:
//    10 senders × 32 unacked, 10 subscribers; target PostgreSQL ≥ 0.5× SQLite) and history pages/s
//    (50 decrypted messages per page, newest and random deep pages, autocannon, 10 connections).
// 2. Two nodes over Redis vs one node: delivery latency at 1000 subscribers and 20 msgs/s, with
//    the subscribers on node B and the sender on node A, so every delivery crosses the bus (target
//    p99 ≤ 1.5× one node, lost deliveries 0). Both on one SQLite file, so the bus is the difference.
//
// PostgreSQL and Redis are the machine's (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres;
// BENCH_REDIS_URL, default redis://127.0.0.1:6379): a fresh database and a fresh key prefix, dropped after.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { Fernet, FernetRing } from '../src/crypto/fernet.js'
import { openStore, type NewMessage } from '../src/storage/index.js'
import { cpuMs, fmt, freePort, sleep, spread, systemBusyMs } from './lib.js'
import type { Scenario } from './loadgen.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const USERS = 10

export interface NodesParams {
  runs: number
  durable: { senders: number, window: number, subscribers: number, durationMs: number, warmupMs: number, drainMs: number }
  history: { messages: number, connections: number, durationMs: number }
  latency: { subscribers: number, ratePerSec: number, durationMs: number, drainMs: number, settleMs: number }
}

export const nodesParams = (quick: boolean, runs: number): NodesParams => ({
  runs,
  durable: { senders: 10, window: 32, subscribers: 10, durationMs: quick ? 2000 : 5000, warmupMs: quick ? 500 : 1000, drainMs: 3000 },
  history: { messages: quick ? 20_000 : 100_000, connections: 10, durationMs: quick ? 2000 : 5000 },
  latency: { subscribers: quick ? 300 : 1000, ratePerSec: 20, durationMs: quick ? 3000 : 6000, drainMs: 3000, settleMs: 1000 }
})

// ---- processes

interface Node { child: ChildProcess, url: string, wsUrl: string, output: () => string }

async function startNode (dir: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      MEDIA_DIR: join(dir, 'media'),
      BCRYPT_COST: '4', // registration only; not measured here
      MESSAGES_PER_SECOND: '0',
      CHANGES_PER_SECOND: '0',
      MAX_SOCKETS_PER_USER: '0',
      MAX_SOCKETS: '0',
      REGISTRATIONS_PER_HOUR: '0',
      // The seeded history is not indexed in the background: the runs measure sends and reads,
      // not a backfill competing with them (it has its own figure, --only=search).
      SEARCH_BACKFILL_BATCH: '0',
      LOG_LEVEL: 'warn',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  const keep = (chunk: Buffer): void => { log = (log + chunk.toString()).slice(-20_000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  for (const deadline = performance.now() + 30_000; ; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`node exited:\n${log}`)
    if (performance.now() > deadline) throw new Error(`node not healthy after 30 s:\n${log}`)
    if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break
  }
  return { child, url, wsUrl: `ws://127.0.0.1:${port}/ws`, output: () => log }
}

async function stopNode (node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const exited = new Promise((resolve) => node.child.once('exit', resolve))
  node.child.kill('SIGTERM')
  if (await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])) return
  node.child.kill('SIGKILL')
  await exited
}

async function registerUsers (url: string): Promise<string[]> {
  const tag = randomBytes(3).toString('hex')
  return Promise.all(Array.from({ length: USERS }, async (_, i) => {
    const res = await fetch(`${url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `nodes-${tag}-${i}`, password: 'bench-password-123' })
    })
    if (res.status !== 201) throw new Error(`register: HTTP ${res.status} ${await res.text()}`)
    return ((await res.json()) as { token: string }).token
  }))
}

type LoadResult = Record<string, unknown> & { problems: { errorFrames: number, unexpectedCloses: number, samples: string[] } }

/** One loadgen process; its JSON line, and how many cores everything but it used meanwhile. */
async function loadgen (scenario: Scenario): Promise<{ r: LoadResult, busyCores: number }> {
  const busy0 = systemBusyMs()
  const t0 = performance.now()
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'loadgen.ts'), JSON.stringify(scenario)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString() })
    child.once('exit', (code) => (text.trim() === '' ? reject(new Error(`loadgen exited (${code}) without a result`)) : resolve(text)))
  })
  const r = JSON.parse(out.trim().split('\n').pop()!) as LoadResult
  if (typeof r.failed === 'string') throw new Error(`loadgen failed: ${r.failed}`)
  const busyCores = (systemBusyMs() - busy0 - num(r.loadgenCpuMs)) / (performance.now() - t0)
  return { r, busyCores }
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN)
const field = (result: Record<string, unknown>, path: string): number =>
  num(path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null | undefined)?.[k], result))

// ---- the figures

type Figures = Map<string, number[]>
const put = (figures: Figures, key: string, value: number): void => { figures.set(key, [...(figures.get(key) ?? []), value]) }
const median = (figures: Figures, key: string): number => spread(figures.get(key) ?? [])?.median ?? Number.NaN

/** The history room, written through the store itself (the same rows the server would write). */
async function seedHistory (databaseUrl: string, key: string, count: number): Promise<{ roomId: number, firstId: number, lastId: number }> {
  const target = /^postgres/.test(databaseUrl) ? { kind: 'postgres' as const, url: databaseUrl } : { kind: 'sqlite' as const, path: databaseUrl }
  const store = await openStore(target, new FernetRing([key]))
  try {
    const user = await store.users.create('bench-history', 'not-a-password-hash')
    const room = await store.rooms.create('Bench history', 'Seeded', user!.id)
    const author = { id: user!.id, username: user!.username }
    let firstId = 0
    let lastId = 0
    for (let done = 0; done < count; done += 5000) {
      const batch: NewMessage[] = []
      for (let i = done; i < Math.min(count, done + 5000); i++) batch.push({ roomId: room!.id, author, body: `Seeded history message number ${i}: the quick brown fox jumps over the lazy dog.`, clientId: null })
      for (const result of await store.messages.insertBatch(batch)) {
        if (!result.ok) throw result.error
        firstId ||= result.value.message.id
        lastId = result.value.message.id
      }
    }
    return { roomId: room!.id, firstId, lastId }
  } finally {
    await store.close()
  }
}

async function storeRun (kind: 'sqlite' | 'postgres', P: NodesParams, figures: Figures, log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `secure-chat-bench-${kind}-`))
  const admin = kind === 'postgres' ? postgres(PG_ADMIN, { max: 1, onnotice: () => {} }) : null
  const database = `bench_${randomBytes(5).toString('hex')}`
  let node: Node | null = null
  try {
    let databaseUrl = join(dir, 'chat.db')
    if (admin !== null) {
      await admin.unsafe(`CREATE DATABASE ${database}`)
      const u = new URL(PG_ADMIN)
      u.pathname = `/${database}`
      databaseUrl = u.toString()
    }
    const key = Fernet.generateKey()
    const seeded = await seedHistory(databaseUrl, key, P.history.messages)
    node = await startNode(dir, { DATABASE_URL: databaseUrl, ENCRYPTION_KEY: key, SECRET_KEY: randomBytes(48).toString('base64url') })
    const tokens = await registerUsers(node.url)
    const pid = node.child.pid!
    // The node's PostgreSQL backends (its pool), whose CPU the node's own figure does not hold.
    const backends = async (): Promise<number> => {
      if (admin === null) return Number.NaN
      const rows = await admin<Array<{ pid: number }>>`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`
      return rows.reduce((sum, row) => sum + cpuMs(row.pid), 0)
    }
    for (let run = 0; run < P.runs; run++) {
      const pg0 = await backends()
      const { r, busyCores } = await loadgen({ kind: 'durable', wsUrl: node.wsUrl, tokens, roomId: 1, pid, ...P.durable })
      const pgCpu = (await backends()) - pg0
      put(figures, `${kind}.acked`, field(r, 'ackedPerSec'))
      put(figures, `${kind}.lost`, field(r, 'lost'))
      log(`  nodes      ${kind.padEnd(8)} durable run ${run + 1}: ${fmt(field(r, 'ackedPerSec'))} acked msgs/s, ack p50 ${fmt(field(r, 'ack.p50'))} ms, p99 ${fmt(field(r, 'ack.p99'))} ms, node CPU ${fmt(field(r, 'serverCpuMsPer1000'))} ms/1000${admin === null ? '' : `, PostgreSQL backends ${fmt(pgCpu / field(r, 'acked') * 1000)} ms/1000 (whole run)`}, lost ${field(r, 'lost')}, unacked ${field(r, 'unacked')} [all but the load generator: ${busyCores.toFixed(2)} cores]`)
      await sleep(500)
      for (const [variant, extra] of [['newest', {}], ['random', { randomBefore: [seeded.firstId + 100, seeded.lastId] as [number, number] }]] as const) {
        const h = await loadgen({ kind: 'history', pid, url: node.url, token: tokens[0]!, roomId: seeded.roomId, connections: P.history.connections, durationMs: P.history.durationMs, ...extra })
        put(figures, `${kind}.history.${variant}`, field(h.r, 'pagesPerSec'))
        const bad = field(h.r, 'non2xx') + field(h.r, 'errors')
        log(`  nodes      ${kind.padEnd(8)} history ${variant.padEnd(6)} run ${run + 1}: ${fmt(field(h.r, 'pagesPerSec'))} pages/s, p99 ${fmt(field(h.r, 'latency.p99'))} ms, node CPU ${fmt(field(h.r, 'serverCpuUsPerPage'))} µs/page${bad > 0 ? `, ${bad} failed` : ''} [all but the load generator: ${h.busyCores.toFixed(2)} cores]`)
        await sleep(300)
      }
    }
  } finally {
    if (node !== null) await stopNode(node)
    if (admin !== null) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {})
      await admin.end({ timeout: 1 })
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

async function latencyRun (nodes: 1 | 2, P: NodesParams, figures: Figures, log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `secure-chat-bench-nodes${nodes}-`))
  const started: Node[] = []
  try {
    const env: Record<string, string> = {
      DATABASE_URL: join(dir, 'chat.db'),
      ENCRYPTION_KEY: Fernet.generateKey(),
      SECRET_KEY: randomBytes(48).toString('base64url'),
      ...(nodes === 2 ? { REDIS_URL, REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}:` } : {})
    }
    started.push(await startNode(dir, env))
    if (nodes === 2) started.push(await startNode(dir, env))
    const [a, b = a] = started as [Node, Node?]
    const tokens = await registerUsers(a.url)
    for (let run = 0; run < P.runs; run++) {
      // Subscribers on B, the sender on A: with two nodes, every delivery goes over Redis.
      const { r, busyCores } = await loadgen({ kind: 'latency', wsUrl: b!.wsUrl, senderWsUrl: a.wsUrl, tokens, roomId: 1, pid: b!.child.pid!, ...P.latency })
      const label = nodes === 1 ? 'one node' : 'two nodes'
      put(figures, `latency${nodes}.p50`, field(r, 'delivery.p50'))
      put(figures, `latency${nodes}.p99`, field(r, 'delivery.p99'))
      put(figures, `latency${nodes}.lost`, field(r, 'lost'))
      const p = r.problems
      log(`  nodes      ${label.padEnd(9)} latency run ${run + 1}: delivery p50 ${fmt(field(r, 'delivery.p50'))} ms, p99 ${fmt(field(r, 'delivery.p99'))} ms, max ${fmt(field(r, 'delivery.max'))} ms, lost ${field(r, 'lost')}${p.errorFrames + p.unexpectedCloses > 0 ? `, problems: ${p.samples.join('; ')}` : ''} [all but the load generator: ${busyCores.toFixed(2)} cores]`)
      await sleep(500)
    }
  } finally {
    for (const node of started) await stopNode(node)
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface NodesBenchResult { text: string, figures: Record<string, number[]> }

/** Runs both comparisons; returns the lines to print (a comparison that cannot run says why). */
export async function nodesBench (P: NodesParams, log: (line: string) => void = (line) => process.stdout.write(line + '\n')): Promise<NodesBenchResult> {
  const figures: Figures = new Map()
  const lines: string[] = ['', '### Several nodes (bench/nodes.ts)', '']
  let settings = ''
  try {
    const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {}, connect_timeout: 5 })
    const [row] = await admin<Array<{ v: string, fsync: string, sc: string }>>`SELECT version() AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc`
    await admin.end({ timeout: 1 })
    settings = `${row!.v.split(' on ')[0]}, fsync=${row!.fsync}, synchronous_commit=${row!.sc}`
    for (const kind of ['sqlite', 'postgres'] as const) await storeRun(kind, P, figures, log)
    const ratio = median(figures, 'postgres.acked') / median(figures, 'sqlite.acked')
    lines.push(`- One node, PostgreSQL (${settings}) vs SQLite (WAL, synchronous=FULL), same machine:`)
    lines.push(`  durable acked msgs/s ${fmt(median(figures, 'postgres.acked'))} vs ${fmt(median(figures, 'sqlite.acked'))} = ${ratio.toFixed(2)}× (target ≥ 0.5×: ${ratio >= 0.5 ? 'met' : '**not met**'}); lost ${Math.max(...(figures.get('postgres.lost') ?? [0]), ...(figures.get('sqlite.lost') ?? [0]))}`)
    for (const v of ['newest', 'random']) {
      const pg = median(figures, `postgres.history.${v}`)
      const lite = median(figures, `sqlite.history.${v}`)
      lines.push(`  history pages/s (${v === 'newest' ? 'newest page' : 'random deep page'}, ${P.history.messages.toLocaleString('en-US')} msgs) ${fmt(pg)} vs ${fmt(lite)} = ${(pg / lite).toFixed(2)}×`)
    }
  } catch (error) {
    lines.push(`- PostgreSQL vs SQLite **not run**: ${(error as Error).message.split('\n')[0]}`)
  }
  try {
    for (const n of [1, 2] as const) await latencyRun(n, P, figures, log)
    const one = median(figures, 'latency1.p99')
    const two = median(figures, 'latency2.p99')
    const lost = Math.max(...(figures.get('latency2.lost') ?? [Number.NaN]), ...(figures.get('latency1.lost') ?? [Number.NaN]))
    lines.push(`- Cross-node delivery, ${P.latency.subscribers} subscribers on node B, ${P.latency.ratePerSec} msgs/s sent on node A, over Redis (${REDIS_URL}), vs one node (same SQLite file kind):`)
    lines.push(`  p50 ${fmt(median(figures, 'latency2.p50'))} ms vs ${fmt(median(figures, 'latency1.p50'))} ms; p99 ${fmt(two)} ms vs ${fmt(one)} ms = ${(two / one).toFixed(2)}× (target ≤ 1.5×: ${two / one <= 1.5 ? 'met' : '**not met**'}); lost deliveries ${lost} (target 0: ${lost === 0 ? 'met' : '**not met**'})`)
  } catch (error) {
    lines.push(`- Two nodes vs one **not run**: ${(error as Error).message.split('\n')[0]}`)
  }
  lines.push(`- ${P.runs} run(s) each, medians; every node, PostgreSQL, Redis and the load generator share this machine's cores.`)
  return { text: lines.join('\n'), figures: Object.fromEntries(figures) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick')
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? (quick ? 1 : 3))
  nodesBench(nodesParams(quick, runs)).then((result) => {
    process.stdout.write(result.text + '\n')
    process.exit(0)
  }, (error: unknown) => {
    process.stderr.write(`bench/nodes: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exit(1)
  })
}
