// `npm run bench`: builds and starts the real server (production, temp data dir, rate limits lifted)
// and the bare `ws` baseline, drives both with the same load generator (bench/loadgen.ts, a separate
// process), scenario by scenario, alternating servers, and prints and writes one table.
//
//   npm run bench                      full run (3 runs per scenario; a few minutes)
//   npm run bench -- --quick           short runs while developing (1 run, 2–3 s each, 100k history)
//   npm run bench -- --only=fanout,idle   some scenarios (fanout updates latency durable idle history rooms storm images import nodes lifecycle search)
//   (updates: the fan-out of changes — reactions and edits over REST — beside new messages' in the same runs;
//   images: upload bombs against a server of its own, bench/images.ts; import: `npm run import` of a
//   100,000-message original into SQLite and into PostgreSQL, bench/import.ts; nodes: PostgreSQL vs SQLite and two nodes over Redis
//   vs one, bench/nodes.ts, needs the machine's PostgreSQL and Redis; search: bench/search.ts;
//   all printed, not in the table)
//   npm run bench -- --profile         real server under --cpu-prof; prints the top self-time functions
//   npm run bench -- --compare         also flags each figure more than 10% worse than BENCHMARKS.md's (exit 1)
//   other flags: --runs=N --no-build; only a complete full run rewrites BENCHMARKS.md (--write forces
//   it, --no-write prevents it). Raw numbers: bench/results/latest.json.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { Fernet } from '../src/crypto/fernet.js'
import { cpuMs, fmt, freePort, sleep, spread, systemBusyMs, type Spread } from './lib.js'
import type { Scenario } from './loadgen.js'
import { imagesBench } from './images.js'
import { describeImport, importBench } from './import.js'
import { nodesBench, nodesParams } from './nodes.js'
import { describeLifecycle, lifecycleBench } from './lifecycle.js'
import { describeSearch, searchBench } from './search.js'
import { formatTop } from './profile-summary.js'
import { compareTables, describeComparison, parseTable } from './compare.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const RESULTS = join(ROOT, 'bench', 'results')
const PROFILES = join(RESULTS, 'profiles')
const BENCHMARKS = join(ROOT, 'BENCHMARKS.md')
const BEGIN = '<!-- bench:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:end -->'

// ---- options

const args = process.argv.slice(2)
const flag = (name: string): boolean => args.includes(`--${name}`)
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const profile = flag('profile')
const ALL = ['fanout', 'updates', 'latency', 'durable', 'idle', 'history', 'rooms', 'storm', 'images', 'import', 'nodes', 'lifecycle', 'search'] as const
type ScenarioName = typeof ALL[number]
const only = new Set((option('only')?.split(',') ?? ALL).map((s) => s.trim()))
for (const name of only) if (!(ALL as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}; known: ${ALL.join(' ')}`)
const wanted = (name: ScenarioName): boolean => only.has(name)

const P = {
  runs: Number(option('runs') ?? (quick || profile ? 1 : 3)),
  fanout: { subscribers: 100, senders: 4, durationMs: quick ? 2000 : 5000, warmupMs: quick ? 500 : 1000, drainMs: 3000 },
  // The same shape, the senders changing their messages (react, unreact, edit) instead of sending new ones.
  updates: { subscribers: 100, senders: 4, durationMs: quick ? 2000 : 5000, warmupMs: quick ? 500 : 1000, drainMs: 3000 },
  latency: { subscribers: 1000, ratePerSec: 20, durationMs: quick ? 3000 : 6000, drainMs: 3000, settleMs: 1000 },
  durable: { senders: 10, window: 32, subscribers: 10, durationMs: quick ? 2000 : 5000, warmupMs: quick ? 500 : 1000, drainMs: 3000 },
  idle: { sockets: quick ? 1000 : 5000, warmupSockets: quick ? 300 : 1000, rooms: [1, 2, 3], settleMs: quick ? 1000 : 2000 },
  history: { messages: quick ? 100_000 : 1_000_000, connections: 10, durationMs: quick ? 2000 : 5000 },
  // GET /api/rooms over many rooms full of unread messages: sequential calls, then 20 at once beside /api/health.
  rooms: { rooms: 2000, perRoom: quick ? 100 : 1000, calls: quick ? 20 : 50, concurrent: 20 },
  storm: { ratePerSec: 20 },
  users: 10
}
const PASSWORD = 'bench-password-123'

// ---- processes

interface Proc { child: ChildProcess, pid: number, output: () => string, exited: Promise<void> }

function start (command: string, argv: string[], options: { cwd: string, env: Record<string, string> }): Proc {
  const child = spawn(command, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (chunk: Buffer): void => { log = (log + chunk.toString()).slice(-20_000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { child, pid: child.pid!, output: () => log, exited }
}

async function stop (proc: Proc, timeoutMs = 15_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return
  proc.child.kill('SIGTERM')
  const done = await Promise.race([proc.exited.then(() => true), sleep(timeoutMs).then(() => false)])
  if (!done) {
    proc.child.kill('SIGKILL')
    await proc.exited
  }
}

async function waitUntil (what: string, proc: Proc, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output()}`)
    if (await check().catch(() => false)) return
    await sleep(100)
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${proc.output()}`)
}

/** Runs a command to its end with inherited output; throws on failure. */
function runCommand (command: string, argv: string[], cwd = ROOT, timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${command} ${argv.join(' ')} failed (${code}):\n${out}`))
    })
  })
}

type LoadResult = Record<string, unknown> & { problems: { errorFrames: number, unexpectedCloses: number, samples: string[] } }

/** The servers, to tell their CPU time from other processes'. */
const servers: Target[] = []
/** Cores used by processes other than the servers and the load generator during each run (shared machine). */
const foreignCores: number[] = []

/** One loadgen process for one scenario run; returns its JSON line. */
async function loadgen (scenario: Scenario): Promise<LoadResult> {
  const serversCpu = (): number => servers.reduce((sum, t) => sum + cpuMs(t.proc.pid), 0)
  const busy0 = systemBusyMs()
  const servers0 = serversCpu()
  const t0 = performance.now()
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'loadgen.ts'), JSON.stringify(scenario)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (text.trim() === '') reject(new Error(`loadgen exited (${code}) without a result`))
      else resolve(text)
    })
  })
  const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult
  if (typeof result.failed === 'string') throw new Error(`loadgen failed: ${result.failed}`)
  const foreign = (systemBusyMs() - busy0 - (serversCpu() - servers0) - num(result.loadgenCpuMs)) / (performance.now() - t0)
  if (Number.isFinite(foreign)) foreignCores.push(Math.max(0, foreign))
  result.otherCores = Math.max(0, foreign)
  return result
}

// ---- servers

interface Target {
  label: 'secure' | 'baseline'
  proc: Proc
  url: string
  wsUrl: string
  tokens: string[]
  /** Stops the process and starts a fresh one with the same settings. */
  restart: () => Promise<void>
}

const profileStamp = new Date().toISOString().replace(/[:.]/g, '-')
/** With --profile, both servers run under --cpu-prof (written when they exit). */
const profileDir = (name: string): string => join(PROFILES, `${profileStamp}-${name}`)
const cpuProf = (name: string): string[] => (profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir(name)}`] : [])

/** The Secure Chat server, restartable with the same settings (tokens stay valid: same SECRET_KEY). */
async function startSecure (dir: string, key: string, secret: string): Promise<Target> {
  const target: Target = {
    label: 'secure',
    tokens: [],
    ...(await launchSecure(dir, key, secret)),
    restart: async () => {
      await stop(target.proc)
      Object.assign(target, await launchSecure(dir, key, secret))
    }
  }
  return target
}

async function launchSecure (dir: string, key: string, secret: string): Promise<Pick<Target, 'proc' | 'url' | 'wsUrl'>> {
  const port = await freePort()
  const proc = start(process.execPath, [...cpuProf('secure'), join(ROOT, 'dist', 'server.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: join(dir, 'chat.db'),
      MEDIA_DIR: join(dir, 'media'),
      ENCRYPTION_KEY: key,
      SECRET_KEY: secret,
      BCRYPT_COST: '12',
      MESSAGES_PER_SECOND: '0',
      CHANGES_PER_SECOND: '0',
      MAX_SOCKETS_PER_USER: '0',
      MAX_SOCKETS: '0',
      REGISTRATIONS_PER_HOUR: '0',
      // The seeded messages skip the send path, which indexes them for search: a server left to
      // index 3,000,000 of them in the background did so through every scenario of a run, and
      // the history and room-list figures measured that indexing as much as the reads (about
      // half the server's CPU). Backfill has its own figure (--only=search, its own servers).
      SEARCH_BACKFILL_BATCH: '0',
      LOG_LEVEL: 'warn'
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntil('the Secure Chat server', proc, async () => (await fetch(`${url}/api/health`)).ok, 30_000)
  return { proc, url, wsUrl: `ws://127.0.0.1:${port}/ws` }
}

async function startBaseline (): Promise<Target> {
  const target: Target = {
    label: 'baseline',
    tokens: ['baseline-needs-no-token'],
    ...(await launchBaseline()),
    restart: async () => {
      await stop(target.proc)
      Object.assign(target, await launchBaseline())
    }
  }
  return target
}

async function launchBaseline (): Promise<Pick<Target, 'proc' | 'url' | 'wsUrl'>> {
  const port = await freePort()
  const proc = start(process.execPath, [...cpuProf('baseline'), '--import', TSX, join(ROOT, 'bench', 'baseline-server.ts')], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: String(port), NODE_ENV: 'production' }
  })
  await waitUntil('the baseline server', proc, async () => proc.output().includes('listening'), 30_000)
  return { proc, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws` }
}

/** Registers the bench users once (bcrypt cost 12, on the server's worker) and keeps their tokens. */
async function registerUsers (target: Target): Promise<string[]> {
  const tag = randomBytes(3).toString('hex')
  return Promise.all(Array.from({ length: P.users }, async (_, i) => {
    const response = await fetch(`${target.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `bench-${tag}-${i}`, password: PASSWORD }),
      signal: AbortSignal.timeout(60_000)
    })
    if (response.status !== 201) throw new Error(`register: HTTP ${response.status} ${await response.text()}`)
    return ((await response.json()) as { token: string }).token
  }))
}

/** Whether `ws://…/ws?token=` answers a `ready` frame (the hub has landed); the reason when not. */
async function wsReady (target: Target): Promise<string | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${target.wsUrl}?token=${target.tokens[0]}`)
    const timer = setTimeout(() => { ws.terminate(); resolve('no ready frame within 5 s') }, 5000)
    const done = (reason: string | null): void => { clearTimeout(timer); ws.terminate(); resolve(reason) }
    ws.once('message', (data: Buffer) => done(String(data).includes('"ready"') ? null : `first frame was ${String(data).slice(0, 80)}`))
    ws.once('unexpected-response', (_request, response) => done(`upgrade answered HTTP ${response.statusCode}`))
    ws.once('error', (error) => done(error.message))
  })
}

// ---- results

type Side = 'secure' | 'baseline'
const samples = new Map<string, Record<Side, number[]>>()
const problemNotes: string[] = []
function record (key: string, side: Side, value: number): void {
  const entry = samples.get(key) ?? { secure: [], baseline: [] }
  entry[side].push(value)
  samples.set(key, entry)
}
function get (key: string, side: Side): Spread | null {
  return spread(samples.get(key)?.[side] ?? [])
}
function noteProblems (what: string, result: LoadResult): void {
  const p = result.problems
  if (p.errorFrames > 0 || p.unexpectedCloses > 0) problemNotes.push(`${what}: ${p.errorFrames} error frames, ${p.unexpectedCloses} unexpected closes (${p.samples.join('; ')})`)
}
const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN)
const field = (result: Record<string, unknown>, path: string): number =>
  num(path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null | undefined)?.[k], result))

function log (text: string): void {
  process.stdout.write(text + '\n')
}
/** The progress-line suffix: how busy the rest of the machine was. */
const other = (r: LoadResult): string => ` [other load ${num(r.otherCores).toFixed(2)} cores]`

// ---- scenarios

async function alternate (targets: Target[], round: number, run: (t: Target) => Promise<void>): Promise<void> {
  const order = round % 2 === 0 ? targets : [...targets].reverse()
  for (const target of order) {
    await run(target)
    await sleep(500) // let closing sockets finish before the next run
  }
}

const wsTarget = (t: Target, roomId = 1) => ({ wsUrl: t.wsUrl, tokens: t.tokens, roomId, pid: t.proc.pid })

async function fanoutScenario (targets: Target[]): Promise<void> {
  for (let round = 0; round < P.runs; round++) {
    await alternate(targets, round, async (t) => {
      const r = await loadgen({ kind: 'fanout', ...wsTarget(t), ...P.fanout })
      noteProblems(`fan-out ${t.label} run ${round + 1}`, r)
      for (const key of ['deliveriesPerSec', 'serverCpuMsPer1000', 'ack.p50', 'ack.p99', 'delivery.p50', 'delivery.p99', 'lost', 'unacked']) record(`fanout.${key}`, t.label, field(r, key))
      log(`  fan-out    ${t.label.padEnd(8)} run ${round + 1}: ${fmt(field(r, 'deliveriesPerSec'))} deliveries/s (server CPU ${fmt(field(r, 'serverCpuMsPer1000'))} ms/1000), ack p99 ${fmt(field(r, 'ack.p99'))} ms, delivery p99 ${fmt(field(r, 'delivery.p99'))} ms, lost ${field(r, 'lost')}` + other(r))
    })
  }
}

/**
 * Changes fan out like messages (issue 17): each round runs the new-message fan-out and the
 * changes' fan-out on Secure Chat back to back (order alternating), so the ratio compares runs on
 * the same machine at the same moment. The baseline has no changes to send.
 */
async function updatesScenario (secure: Target): Promise<void> {
  for (let round = 0; round < P.runs; round++) {
    const pair: Array<'messages' | 'updates'> = round % 2 === 0 ? ['messages', 'updates'] : ['updates', 'messages']
    for (const kind of pair) {
      if (kind === 'messages') {
        const r = await loadgen({ kind: 'fanout', ...wsTarget(secure), ...P.fanout })
        noteProblems(`updates (new messages) run ${round + 1}`, r)
        record('updates.reference.deliveriesPerSec', 'secure', field(r, 'deliveriesPerSec'))
        log(`  updates    messages run ${round + 1}: ${fmt(field(r, 'deliveriesPerSec'))} message deliveries/s (server CPU ${fmt(field(r, 'serverCpuMsPer1000'))} ms/1000), ack p50 ${fmt(field(r, 'ack.p50'))} ms, delivery p99 ${fmt(field(r, 'delivery.p99'))} ms` + other(r))
      } else {
        const r = await loadgen({ kind: 'updates', ...wsTarget(secure), url: secure.url, ...P.updates })
        noteProblems(`updates run ${round + 1}`, r)
        for (const key of ['deliveriesPerSec', 'changesPerSec', 'serverCpuMsPer1000', 'ack.p50', 'ack.p99', 'delivery.p50', 'delivery.p99', 'lost']) record(`updates.${key}`, 'secure', field(r, key))
        log(`  updates    changes  run ${round + 1}: ${fmt(field(r, 'deliveriesPerSec'))} message_updated deliveries/s (${fmt(field(r, 'changesPerSec'))} changes/s, server CPU ${fmt(field(r, 'serverCpuMsPer1000'))} ms/1000), answer p50 ${fmt(field(r, 'ack.p50'))} ms, p99 ${fmt(field(r, 'ack.p99'))} ms, delivery p99 ${fmt(field(r, 'delivery.p99'))} ms, lost ${field(r, 'lost')}` + other(r))
      }
      await sleep(500)
    }
  }
}

async function latencyScenario (targets: Target[]): Promise<void> {
  for (let round = 0; round < P.runs; round++) {
    await alternate(targets, round, async (t) => {
      const r = await loadgen({ kind: 'latency', ...wsTarget(t), ...P.latency })
      noteProblems(`latency ${t.label} run ${round + 1}`, r)
      for (const key of ['delivery.p50', 'delivery.p99', 'delivery.max', 'lost']) record(`latency.${key}`, t.label, field(r, key))
      log(`  latency    ${t.label.padEnd(8)} run ${round + 1}: delivery p50 ${fmt(field(r, 'delivery.p50'))} ms, p99 ${fmt(field(r, 'delivery.p99'))} ms, max ${fmt(field(r, 'delivery.max'))} ms, lost ${field(r, 'lost')}` + other(r))
    })
  }
}

async function durableScenario (targets: Target[]): Promise<void> {
  for (let round = 0; round < P.runs; round++) {
    await alternate(targets, round, async (t) => {
      const r = await loadgen({ kind: 'durable', ...wsTarget(t), ...P.durable })
      noteProblems(`durable ${t.label} run ${round + 1}`, r)
      for (const key of ['ackedPerSec', 'serverCpuMsPer1000', 'ack.p50', 'ack.p99', 'lost']) record(`durable.${key}`, t.label, field(r, key))
      log(`  durable    ${t.label.padEnd(8)} run ${round + 1}: ${fmt(field(r, 'ackedPerSec'))} acked msgs/s (server CPU ${fmt(field(r, 'serverCpuMsPer1000'))} ms/1000), ack p50 ${fmt(field(r, 'ack.p50'))} ms, p99 ${fmt(field(r, 'ack.p99'))} ms, lost ${field(r, 'lost')}` + other(r))
    })
  }
}

async function idleScenario (targets: Target[]): Promise<void> {
  for (let round = 0; round < P.runs; round++) {
    await alternate(targets, round, async (t) => {
      // A fresh process each run: RSS is not given back after earlier runs, so "before" would drift.
      await t.restart()
      const r = await loadgen({ kind: 'idle', ...wsTarget(t), ...P.idle })
      noteProblems(`idle ${t.label} run ${round + 1}`, r)
      record('idle.kbPerSocket', t.label, field(r, 'bytesPerSocket') / 1024)
      record('idle.connectsPerSec', t.label, field(r, 'connectsPerSec'))
      log(`  idle       ${t.label.padEnd(8)} run ${round + 1}: ${fmt(field(r, 'bytesPerSocket') / 1024)} KB/socket (RSS ${fmt(field(r, 'rssBefore') / 2 ** 20)} → ${fmt(field(r, 'rssAfter') / 2 ** 20)} MB, ${field(r, 'open')}/${field(r, 'sockets')} open, ${fmt(field(r, 'connectsPerSec'))} connects/s)` + other(r))
    })
  }
}

interface Seeded { roomId: number, firstId: number, lastId: number, ms: number }

async function historyScenario (secure: Target, seeded: Seeded): Promise<void> {
  const deep = seeded.firstId + Math.floor((seeded.lastId - seeded.firstId) / 2)
  // A sanity check first: full pages, decrypted, in the right place.
  for (const query of ['', `&before=${deep}`]) {
    const response = await fetch(`${secure.url}/api/rooms/${seeded.roomId}/messages?limit=50${query}`, { headers: { authorization: `Bearer ${secure.tokens[0]}` } })
    const page = (await response.json()) as { messages?: Array<{ id: number, body: string }> }
    if (response.status !== 200 || page.messages?.length !== 50 || !page.messages[0]!.body.startsWith('Seeded history')) {
      throw new Error(`history page${query} is not what was seeded: HTTP ${response.status} ${JSON.stringify(page).slice(0, 200)}`)
    }
  }
  const variants: Array<{ key: string, label: string, extra: { before?: number, randomBefore?: [number, number] } }> = [
    { key: 'newest', label: 'newest page', extra: {} },
    { key: 'deep', label: `before=${deep}`, extra: { before: deep } },
    { key: 'random', label: 'random before=', extra: { randomBefore: [seeded.firstId + 100, seeded.lastId] } }
  ]
  // Warm-up (not recorded): JIT, SQLite page cache.
  await loadgen({ kind: 'history', pid: secure.proc.pid, url: secure.url, token: secure.tokens[0]!, roomId: seeded.roomId, connections: P.history.connections, durationMs: 1000, randomBefore: [seeded.firstId, seeded.lastId] })
  for (let round = 0; round < P.runs; round++) {
    for (const v of variants) {
      const r = await loadgen({ kind: 'history', pid: secure.proc.pid, url: secure.url, token: secure.tokens[0]!, roomId: seeded.roomId, connections: P.history.connections, durationMs: P.history.durationMs, ...v.extra })
      record(`history.${v.key}`, 'secure', field(r, 'pagesPerSec'))
      record(`history.${v.key}.p99`, 'secure', field(r, 'latency.p99'))
      record(`history.${v.key}.cpu`, 'secure', field(r, 'serverCpuUsPerPage'))
      if (field(r, 'non2xx') > 0 || field(r, 'errors') > 0) problemNotes.push(`history ${v.key} run ${round + 1}: ${field(r, 'non2xx')} non-2xx, ${field(r, 'errors')} errors`)
      log(`  history    ${v.label.padEnd(18)} run ${round + 1}: ${fmt(field(r, 'pagesPerSec'))} pages/s (server CPU ${fmt(field(r, 'serverCpuUsPerPage'))} µs/page), p50 ${fmt(field(r, 'latency.p50'))} ms, p99 ${fmt(field(r, 'latency.p99'))} ms` + other(r))
      await sleep(300)
    }
  }
}

interface RoomsSeed { userId: number, rooms: number, perRoom: number, roomsMs: number }

/** A login token signed with the server's secret, as @fastify/jwt would issue it (no bcrypt, no user to register). */
function prebuiltToken (secret: string, userId: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: String(userId), jti: randomBytes(16).toString('base64url'), iat: now, exp: now + 6 * 3600 })}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

async function roomsScenario (secure: Target, seed: RoomsSeed, secret: string): Promise<void> {
  const views = [
    // A bench user: every seeded message is someone else's, so every room has its badge at the cap.
    { key: 'others', label: 'all unread', token: secure.tokens[0]! },
    // The seed user: every message is their own, after no marker (the case that was not capped).
    { key: 'own', label: 'all own', token: prebuiltToken(secret, seed.userId) }
  ]
  const expectedRooms = seed.rooms + 4 // the three seed rooms and the history room
  const list = async (token: string): Promise<number> => {
    const t0 = performance.now()
    const response = await fetch(`${secure.url}/api/rooms`, { headers: { authorization: `Bearer ${token}` } })
    const body = (await response.json()) as { rooms?: Array<{ name: string, unreadCount: number }> }
    const ms = performance.now() - t0
    if (response.status !== 200 || body.rooms?.length !== expectedRooms) throw new Error(`GET /api/rooms: HTTP ${response.status}, ${body.rooms?.length} rooms (expected ${expectedRooms})`)
    const seeded = body.rooms.find((r) => r.name.startsWith('Bench room'))
    const mine = token === views[1]!.token
    if (seeded?.unreadCount !== (mine ? 0 : Math.min(seed.perRoom, 1000))) throw new Error(`unexpected unreadCount ${seeded?.unreadCount} in ${seeded?.name}`)
    return ms
  }
  for (const v of views) for (let i = 0; i < 5; i++) await list(v.token) // warm-up: JIT, page cache
  for (let round = 0; round < P.runs; round++) {
    for (const v of views) {
      const cpu0 = cpuMs(secure.proc.pid)
      const times: number[] = []
      for (let i = 0; i < P.rooms.calls; i++) times.push(await list(v.token))
      const cpuPerCall = (cpuMs(secure.proc.pid) - cpu0) / P.rooms.calls
      times.sort((a, b) => a - b)
      const median = times[Math.floor(times.length / 2)]!
      record(`rooms.${v.key}`, 'secure', median)
      record(`rooms.${v.key}.cpu`, 'secure', cpuPerCall)
      log(`  rooms      ${v.label.padEnd(10)} run ${round + 1}: GET /api/rooms median ${fmt(median)} ms, max ${fmt(times.at(-1)!)} ms (server CPU ${fmt(cpuPerCall)} ms/call), ${P.rooms.calls} calls one after another`)
    }
    // The event loop's view: /api/health sent just after 20 room lists, all at once.
    const lists = Array.from({ length: P.rooms.concurrent }, async () => list(views[0]!.token))
    const t0 = performance.now()
    const health = await fetch(`${secure.url}/api/health`)
    const healthMs = performance.now() - t0
    await Promise.all(lists)
    if (!health.ok) throw new Error(`/api/health answered ${health.status}`)
    record('rooms.health', 'secure', healthMs)
    log(`  rooms      health    run ${round + 1}: /api/health answered in ${fmt(healthMs)} ms behind ${P.rooms.concurrent} concurrent room lists`)
    await sleep(300)
  }
}

async function stormScenario (secure: Target, usernames: string[]): Promise<void> {
  // "Without" is the latency scenario's Secure Chat runs; measured here only when that did not run.
  if ((samples.get('latency.delivery.p99')?.secure.length ?? 0) === 0) {
    for (let round = 0; round < P.runs; round++) {
      const r = await loadgen({ kind: 'latency', ...wsTarget(secure), ...P.latency })
      noteProblems(`storm (without) run ${round + 1}`, r)
      record('latency.delivery.p99', 'secure', field(r, 'delivery.p99'))
      log(`  storm      without   run ${round + 1}: delivery p99 ${fmt(field(r, 'delivery.p99'))} ms` + other(r))
      await sleep(500)
    }
  }
  // Runs with the storm come last of all: bcrypt jobs queued on the server outlive the run.
  for (let round = 0; round < P.runs; round++) {
    const r = await loadgen({ kind: 'latency', ...wsTarget(secure), ...P.latency, storm: { url: secure.url, usernames, password: PASSWORD, ratePerSec: P.storm.ratePerSec } })
    noteProblems(`storm run ${round + 1}`, r)
    const stormSeconds = (P.latency.settleMs + P.latency.durationMs) / 1000
    record('storm.delivery.p99', 'secure', field(r, 'delivery.p99'))
    record('storm.delivery.p50', 'secure', field(r, 'delivery.p50'))
    record('storm.loginsPerSec', 'secure', field(r, 'storm.ok') / stormSeconds)
    const statuses = ((r.storm as { statuses?: Record<string, number> } | null)?.statuses) ?? {}
    const refused = (statuses['503'] ?? 0) + (statuses['429'] ?? 0)
    record('storm.refusedPerSec', 'secure', refused / stormSeconds)
    record('storm.lost', 'secure', field(r, 'lost'))
    log(`  storm      with      run ${round + 1}: delivery p50 ${fmt(field(r, 'delivery.p50'))} ms, p99 ${fmt(field(r, 'delivery.p99'))} ms; logins offered ${field(r, 'storm.offered')}, ok ${field(r, 'storm.ok')}, refused ${refused}, still pending at the end ${field(r, 'storm.abandoned')}` + other(r))
    await sleep(500)
  }
}

// ---- the table

interface Row { scenario: string, figure: string, secure: Spread | null, baseline: Spread | null | 'n/a', ratio: number | null, target: string, verdict: string, versus?: Spread | null }

const show = (s: Spread | null | 'n/a'): string =>
  s === 'n/a' ? '—' : s === null ? 'not run' : s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`
const ratioOf = (a: Spread | null, b: Spread | null | 'n/a'): number | null =>
  a === null || b === null || b === 'n/a' || b.median === 0 ? null : a.median / b.median
const verdict = (ok: boolean | null): string => (ok === null ? 'not run' : ok ? '**met**' : '**missed**')

function rows (): Row[] {
  const out: Row[] = []
  const pair = (scenario: string, figure: string, key: string, target = '', judge?: (ratio: number, s: Spread) => boolean): void => {
    const secure = get(key, 'secure')
    const baseline = get(key, 'baseline')
    const ratio = ratioOf(secure, baseline)
    out.push({ scenario, figure, secure, baseline, ratio, target, verdict: judge === undefined ? '' : verdict(ratio === null || secure === null ? null : judge(ratio, secure)) })
  }
  const lostJudge = (_: number, s: Spread): boolean => s.max === 0
  const lostRow = (scenario: string, key: string): void => {
    const secure = get(key, 'secure')
    const baseline = key.startsWith('storm') ? 'n/a' : get(key, 'baseline')
    out.push({ scenario, figure: 'lost deliveries (sum of acked messages not delivered)', secure, baseline, ratio: null, target: '0', verdict: secure === null ? 'not run' : verdict(lostJudge(0, secure)) })
  }
  pair('fan-out (100 subs, 4 senders)', 'deliveries/s', 'fanout.deliveriesPerSec', '≥ 0.8× baseline', (r) => r >= 0.8)
  pair('', 'server CPU per 1000 deliveries (ms)', 'fanout.serverCpuMsPer1000')
  pair('', 'ack p50 (ms)', 'fanout.ack.p50')
  pair('', 'ack p99 (ms)', 'fanout.ack.p99')
  pair('', 'delivery p50 (ms)', 'fanout.delivery.p50')
  pair('', 'delivery p99 (ms)', 'fanout.delivery.p99')
  lostRow('', 'fanout.lost')
  const updatesName = `updates fan-out (${P.updates.subscribers} subs, ${P.updates.senders} senders reacting and editing)`
  const reference = get('updates.reference.deliveriesPerSec', 'secure')
  const updated = get('updates.deliveriesPerSec', 'secure')
  const updatesRatio = ratioOf(updated, reference)
  const updatesRow = (figure: string, key: string): void => { out.push({ scenario: '', figure, secure: get(key, 'secure'), baseline: 'n/a', ratio: null, target: '', verdict: '' }) }
  out.push({ scenario: updatesName, figure: 'new-message deliveries/s in the same runs', secure: reference, baseline: 'n/a', ratio: null, target: '', verdict: '' })
  out.push({ scenario: '', figure: 'message_updated deliveries/s; ratio = updates / new messages', secure: updated, baseline: 'n/a', ratio: updatesRatio, target: '≥ 0.9× new messages', verdict: verdict(updatesRatio === null ? null : updatesRatio >= 0.9), versus: reference })
  updatesRow('changes/s (answered)', 'updates.changesPerSec')
  updatesRow('server CPU per 1000 deliveries (ms)', 'updates.serverCpuMsPer1000')
  updatesRow('answer p99 (ms)', 'updates.ack.p99')
  updatesRow('delivery p99 (ms)', 'updates.delivery.p99')
  const updatesLost = get('updates.lost', 'secure')
  out.push({ scenario: '', figure: 'lost deliveries (sum of answered changes not delivered)', secure: updatesLost, baseline: 'n/a', ratio: null, target: '0', verdict: updatesLost === null ? 'not run' : verdict(updatesLost.max === 0) })
  pair('latency (1000 subs, 20 msg/s)', 'delivery p50 (ms)', 'latency.delivery.p50')
  pair('', 'delivery p99 (ms)', 'latency.delivery.p99', '≤ 1.25× baseline', (r) => r <= 1.25)
  pair('', 'delivery max (ms)', 'latency.delivery.max')
  lostRow('', 'latency.lost')
  pair('durable throughput (10×32 window, 10 subs)', 'acked msgs/s', 'durable.ackedPerSec', '≥ 0.7× baseline', (r) => r >= 0.7)
  pair('', 'server CPU per 1000 acked msgs (ms)', 'durable.serverCpuMsPer1000')
  pair('', 'ack p50 (ms)', 'durable.ack.p50')
  pair('', 'ack p99 (ms)', 'durable.ack.p99')
  lostRow('', 'durable.lost')
  pair('idle (authenticated, joined sockets)', 'RSS per socket (KB)', 'idle.kbPerSocket', '≤ 16 KB (absolute)', (_, s) => s.median <= 16)
  pair('', 'connect + join /s (set-up)', 'idle.connectsPerSec')
  const historyRow = (figure: string, key: string, target: string, judge: (s: Spread) => boolean | null): void => {
    const s = get(key, 'secure')
    out.push({ scenario: out.some((r) => r.scenario.startsWith('history')) ? '' : `history (${P.history.messages.toLocaleString('en-US')} msgs, ${P.history.connections} conns)`, figure, secure: s, baseline: 'n/a', ratio: null, target, verdict: s === null ? 'not run' : verdict(judge(s)) })
  }
  // Issue 17: ≥ 5,000 pages/s for the newest page and ≥ 4,000 for deep pages.
  historyRow('newest page, pages/s (50 msgs, decrypted)', 'history.newest', '≥ 5,000 pages/s', (s) => s.median >= 5000)
  historyRow('deep page (before = middle id), pages/s', 'history.deep', '≥ 4,000 pages/s', (s) => s.median >= 4000)
  historyRow('deep page (random before=), pages/s', 'history.random', '≥ 4,000 pages/s', (s) => s.median >= 4000)
  historyRow('newest page p99 (ms)', 'history.newest.p99', '', () => null)
  historyRow('server CPU per newest page (µs)', 'history.newest.cpu', '', () => null)
  historyRow('server CPU per random deep page (µs)', 'history.random.cpu', '', () => null)
  historyRow('random deep page p99 (ms)', 'history.random.p99', '', () => null)
  const roomsScenarioName = `room list (${P.rooms.rooms.toLocaleString('en-US')} rooms × ${P.rooms.perRoom.toLocaleString('en-US')} msgs)`
  const roomsRow = (figure: string, key: string, target: string, judge: (s: Spread) => boolean | null): void => {
    const s = get(key, 'secure')
    out.push({ scenario: out.some((r) => r.scenario === roomsScenarioName) ? '' : roomsScenarioName, figure, secure: s, baseline: 'n/a', ratio: null, target, verdict: s === null ? 'not run' : verdict(judge(s)) })
  }
  roomsRow('GET /api/rooms median (ms), every room unread', 'rooms.others', '< 20 ms', (s) => s.median < 20)
  roomsRow('GET /api/rooms median (ms), every message your own', 'rooms.own', '< 20 ms', (s) => s.median < 20)
  roomsRow('server CPU per call (ms), every room unread', 'rooms.others.cpu', '', () => null)
  roomsRow(`/api/health behind ${P.rooms.concurrent} concurrent room lists (ms)`, 'rooms.health', '', () => null)
  for (const r of out) if (r.target === '') r.verdict = ''
  const without = get('latency.delivery.p99', 'secure')
  const withStorm = get('storm.delivery.p99', 'secure')
  const stormRatio = ratioOf(withStorm, without)
  out.push({ scenario: `login storm (latency + ${P.storm.ratePerSec} logins/s, bcrypt 12)`, figure: 'delivery p99 without storm (ms)', secure: without, baseline: 'n/a', ratio: null, target: '', verdict: '' })
  out.push({ scenario: '', figure: 'delivery p99 with storm (ms); ratio = with / without', secure: withStorm, baseline: 'n/a', ratio: stormRatio, target: '≤ 2× without', verdict: verdict(stormRatio === null ? null : stormRatio <= 2), versus: without })
  out.push({ scenario: '', figure: 'delivery p50 with storm (ms)', secure: get('storm.delivery.p50', 'secure'), baseline: 'n/a', ratio: null, target: '', verdict: '' })
  out.push({ scenario: '', figure: `logins completed /s (offered ${P.storm.ratePerSec}/s)`, secure: get('storm.loginsPerSec', 'secure'), baseline: 'n/a', ratio: null, target: '', verdict: '' })
  out.push({ scenario: '', figure: 'logins refused /s (503 busy, 429)', secure: get('storm.refusedPerSec', 'secure'), baseline: 'n/a', ratio: null, target: '', verdict: '' })
  lostRow('', 'storm.lost')
  return out.filter((r) => r.secure !== null || (r.baseline !== null && r.baseline !== 'n/a'))
}

function table (list: Row[]): string {
  const lines = ['| scenario | figure | Secure Chat | baseline (bare ws) | Secure Chat / baseline | target | |', '|---|---|---|---|---|---|---|']
  for (const r of list) {
    lines.push(`| ${r.scenario} | ${r.figure} | ${show(r.secure)} | ${show(r.baseline)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.target} | ${r.verdict} |`)
  }
  return lines.join('\n')
}

function conditions (startedAt: Date, load: number[], minutes: number, seeded: Seeded | null, skipped: string | null, roomsSeed: RoomsSeed | null): string {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown'
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || String(cpus().length)
  const lines = [
    `- Date: ${startedAt.toISOString()} (run took ${minutes.toFixed(1)} min${quick ? ', **--quick**: short runs, not comparable' : ''}${profile ? ', **--profile**: server under --cpu-prof' : ''})`,
    `- Machine: \`nproc\` = ${nproc}, CPU ${cpuModel}, memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average at start ${load.map((l) => l.toFixed(2)).join(' / ')} (the machine is shared; other work adds noise)`,
    `- Node ${process.version}; server: \`node dist/server.js\` (NODE_ENV=production, LOG_LEVEL=warn, BCRYPT_COST=12, MESSAGES_PER_SECOND=0, CHANGES_PER_SECOND=0, MAX_SOCKETS_PER_USER=0, MAX_SOCKETS=0, REGISTRATIONS_PER_HOUR=0, SEARCH_BACKFILL_BATCH=0 (the seeded messages are not indexed for search in the background), SQLite WAL + synchronous=FULL in a temp dir); baseline: \`bench/baseline-server.ts\` (bare \`ws\` on node:http)`,
    `- Load: one load-generator process per run (\`bench/loadgen.ts\`, \`ws\` clients without permessage-deflate, \`performance.now()\`), on the same 2 cores as the server; ${P.users} users registered once, tokens reused round-robin; ${P.runs} run(s) per scenario, servers alternating; figures are median (min–max) over runs, percentiles over all samples of a run`,
    `- Durations: fan-out ${P.fanout.durationMs / 1000} s after ${P.fanout.warmupMs / 1000} s warm-up; updates fan-out the same, each run beside a new-message fan-out run of its own; latency ${P.latency.durationMs / 1000} s (${(P.latency.durationMs / 1000) * P.latency.ratePerSec} messages × ${P.latency.subscribers} subscribers); durable ${P.durable.durationMs / 1000} s after ${P.durable.warmupMs / 1000} s warm-up; idle ${P.idle.sockets} sockets over rooms ${P.idle.rooms.join(', ')} on a freshly restarted server warmed by ${P.idle.warmupSockets} throwaway sockets, VmRSS read after ${P.idle.settleMs / 1000} s of quiet before and after; history ${P.history.durationMs / 1000} s per autocannon run; login storm = the latency scenario with ${P.storm.ratePerSec} logins/s open loop, round-robin over the ${P.users} bench users (each latency run waits ${P.latency.settleMs / 1000} s after set-up before measuring; the storm runs through that wait)`
  ]
  if (seeded !== null) lines.push(`- History room: ${(seeded.lastId - seeded.firstId + 1).toLocaleString('en-US')} messages (ids ${seeded.firstId}–${seeded.lastId}) seeded with \`storage.messages.insertBatch\` in ${(seeded.ms / 1000).toFixed(1)} s`)
  if (roomsSeed !== null && roomsSeed.rooms > 0) lines.push(`- Room list: ${roomsSeed.rooms.toLocaleString('en-US')} more rooms of ${roomsSeed.perRoom.toLocaleString('en-US')} messages each, all from the seed user, seeded the same way in ${(roomsSeed.roomsMs / 1000).toFixed(1)} s; ${P.rooms.calls} sequential calls per run and view (median), the seed user's token signed by the bench with the server's secret`)
  const other = spread(foreignCores)
  if (other !== null) lines.push(`- Other processes on the machine (not the servers, not the load generator) used ${other.median.toFixed(2)} cores in the median run (${other.min.toFixed(2)}–${other.max.toFixed(2)}), of ${cpus().length}; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`)
  if (skipped !== null) lines.push(`- **Secure Chat WebSocket scenarios not run**: ${skipped}`)
  return lines.join('\n')
}

function notes (list: Row[]): string {
  const out: string[] = []
  for (const r of list) {
    if (r.verdict === '' || r.target === '0') continue
    const where = r.scenario !== '' ? r.scenario : (list.slice(0, list.indexOf(r)).reverse().find((x) => x.scenario !== '')?.scenario ?? '')
    const value = r.ratio !== null && r.target.includes('×') ? `${r.ratio.toFixed(2)}× (${show(r.secure)} vs ${show(r.versus ?? (r.baseline === 'n/a' ? null : r.baseline))})` : show(r.secure)
    out.push(`- ${where} — ${r.figure}: target ${r.target}; measured ${value}: ${r.verdict.replace(/\*/g, '')}`)
  }
  for (const r of list.filter((x) => x.target === '0' && x.secure !== null)) {
    const where = list.slice(0, list.indexOf(r) + 1).reverse().find((x) => x.scenario !== '')?.scenario ?? ''
    out.push(`- ${where} — lost deliveries: ${r.secure!.max === 0 ? 'none in any run' : `**${fmt(r.secure!.max)} in the worst run**`}`)
  }
  if (problemNotes.length > 0) out.push(...problemNotes.map((p) => `- Problem seen: ${p}`))
  return out.join('\n')
}

function writeBenchmarks (section: string): void {
  const existing = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : ''
  const block = `${BEGIN}\n${section}\n${END}`
  let text: string
  if (existing.includes(BEGIN) && existing.includes(END)) {
    text = existing.slice(0, existing.indexOf(BEGIN)) + block + existing.slice(existing.indexOf(END) + END.length)
  } else {
    text = `# Benchmarks\n\n\`npm run bench\` (code in \`bench/\`) measures the real server against a bare \`ws\` baseline that speaks the same frames.\nThe section between the markers is rewritten by every full run; the analysis after it is written by hand.\n\n${block}\n`
  }
  writeFileSync(BENCHMARKS, text)
}

// ---- main

async function main (): Promise<void> {
  const startedAt = new Date()
  const t0 = performance.now()
  const load = loadavg()
  mkdirSync(RESULTS, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'secure-chat-bench-'))
  const key = Fernet.generateKey()
  let seeded: Seeded | null = null
  let roomsSeed: RoomsSeed | null = null
  const secret = randomBytes(48).toString('base64url')
  let skipped: string | null = null
  try {
    log(`bench: ${quick ? 'quick' : 'full'} run${profile ? ' with --profile' : ''}, ${P.runs} run(s) per scenario, scenarios: ${[...only].join(' ')}; data in ${dir}`)
    // Build and seed at once (two processes, two cores); the server reads the seeded file at start.
    const build = flag('no-build') ? Promise.resolve('') : runCommand('npm', ['run', '--silent', 'build'])
    const seeding = runCommand(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'seed.ts'), join(dir, 'chat.db'), key, String(wanted('history') ? P.history.messages : 1),
      ...(wanted('rooms') ? [String(P.rooms.rooms), String(P.rooms.perRoom)] : [])], ROOT, 1_200_000) // 3M encrypted rows on a busy machine
    await build
    const seedResult = JSON.parse((await seeding).trim()) as Seeded & RoomsSeed
    seeded = seedResult
    log(`  built; seeded ${(seeded.lastId - seeded.firstId + 1).toLocaleString('en-US')} messages in room ${seeded.roomId} in ${(seeded.ms / 1000).toFixed(1)} s` +
      (seedResult.rooms > 0 ? `, and ${seedResult.rooms} rooms × ${seedResult.perRoom} messages in ${(seedResult.roomsMs / 1000).toFixed(1)} s` : ''))
    if (wanted('rooms')) roomsSeed = seedResult
    if (!wanted('history')) seeded = null

    const secure = await startSecure(dir, key, secret)
    servers.push(secure)
    const baseline = await startBaseline()
    servers.push(baseline)
    const registered = performance.now()
    secure.tokens = await registerUsers(secure)
    log(`  servers up (secure pid ${secure.proc.pid}, baseline pid ${baseline.proc.pid}); ${P.users} users registered in ${((performance.now() - registered) / 1000).toFixed(1)} s`)

    skipped = await wsReady(secure)
    const both = skipped === null ? [secure, baseline] : [baseline]
    if (skipped !== null) log(`  Secure Chat /ws is not ready (${skipped}): WebSocket scenarios run against the baseline only`)

    if (wanted('fanout')) await fanoutScenario(both)
    if (wanted('updates') && skipped === null) await updatesScenario(secure)
    if (wanted('latency')) await latencyScenario(both)
    if (wanted('durable')) await durableScenario(both)
    if (wanted('idle')) await idleScenario(both)
    if (wanted('history') && seeded !== null) await historyScenario(secure, seeded)
    if (wanted('rooms') && roomsSeed !== null) await roomsScenario(secure, roomsSeed, secret)
    if (wanted('storm') && skipped === null) {
      // Every bench user logs in, in turn: many people arriving at once, not one account guessed at.
      const usernames = await Promise.all(secure.tokens.map(async (token) =>
        ((await (await fetch(`${secure.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { user: { username: string } }).user.username))
      await stormScenario(secure, usernames)
    }
  } finally {
    for (const server of servers) await stop(server.proc)
    rmSync(dir, { recursive: true, force: true })
  }
  // A server of its own: the bombs must not share memory figures with the other scenarios.
  if (wanted('images')) await imagesBench(false)
  if (wanted('import')) {
    log(describeImport(await importBench(quick ? 20_000 : 100_000)))
    // The same figure into PostgreSQL; a machine without one says so and goes on.
    log(await importBench(quick ? 20_000 : 100_000, 'postgres').then(describeImport, (error: unknown) => `import into PostgreSQL: not run (${(error as Error).message.split('\n')[0]})`))
  }
  let nodesText = ''
  if (wanted('nodes')) {
    const nodes = await nodesBench(nodesParams(quick, P.runs), log)
    nodesText = nodes.text
    log(nodesText)
  }
  // Reaction storms and a 10,000-change catch-up (bench/lifecycle.ts): printed, not in the table.
  if (wanted('lifecycle')) {
    log(describeLifecycle(await lifecycleBench({
      ...(quick
        ? { listeners: 5, reactors: 20, durationMs: 1500, ratePerSec: 20, runs: 1, changes: 1000 }
        : { listeners: 20, reactors: 100, durationMs: 8000, ratePerSec: 40, runs: P.runs, changes: 10_000 }),
      ...(profile ? { cpuProfDir: profileDir('lifecycle') } : {})
    }, false)))
  }
  // Servers of its own, one seeded with a large room of words (search.ts).
  if (wanted('search')) log(describeSearch(await searchBench(quick ? 50_000 : 1_000_000, quick ? 2 : 5)))

  const minutes = (performance.now() - t0) / 60_000
  const list = rows()
  const section = [`## Latest run\n`, conditions(startedAt, load, minutes, seeded, skipped, roomsSeed), '', table(list), '', '### Targets', '', notes(list), nodesText].join('\n')
  log('\n' + section)
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify({ startedAt, quick, profile, params: P, samples: Object.fromEntries(samples), problems: problemNotes }, null, 2))
  if (profile) {
    for (const name of ['secure', 'baseline', 'lifecycle']) {
      // One file per thread (tsx's loader has its own); the main thread's is the largest.
      const dir = profileDir(name)
      const files = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size) : []
      if (files[0] !== undefined) log(`\n${name}: ` + formatTop(files[0], 30))
    }
  }
  // Before BENCHMARKS.md is rewritten: this run against the figures it holds now.
  if (flag('compare')) {
    const previous = existsSync(BENCHMARKS) ? parseTable(readFileSync(BENCHMARKS, 'utf8')) : []
    const comparison = compareTables(previous, parseTable(table(list)))
    log('\n' + describeComparison(comparison))
    if (comparison.some((c) => c.flagged)) process.exitCode = 1
  }
  // Only a complete, full-length run replaces the numbers in BENCHMARKS.md (unless --write says so).
  const complete = !quick && !profile && option('only') === undefined && option('runs') === undefined
  if ((complete || flag('write')) && !flag('no-write')) {
    writeBenchmarks(section)
    log(`\nwrote ${BENCHMARKS}`)
  } else {
    log('\n(BENCHMARKS.md left alone: not a complete full run; add --write to write anyway)')
  }
  log(`bench: done in ${minutes.toFixed(1)} min`)
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
