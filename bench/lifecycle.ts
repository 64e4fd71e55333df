// The lifecycle's two figures (issue 14), against the built server (dist/server.js) on a temp dir:
//  - reaction storm: message delivery p99 to 20 listeners while 100 users toggle reactions on one
//    message (from another process, bench/reaction-storm.ts), beside the same run without the
//    storm (the goal: within 1.5×). Runs with and without alternate, `runs` of each; each figure
//    is the median over its runs. A p99 is the few slowest messages of a run (every listener gets
//    each one at nearly the same time), so a run sends a few hundred.
//  - catch-up: 10,000 changes in a room (5,000 messages, then a reaction on each), then
//    `changes?since=0` paged through (pages of 500), in pages per second.
// `npm run bench -- --only=lifecycle` (or `node --import tsx bench/lifecycle.ts [--quick]`).
import { fork, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { Fernet } from '../src/crypto/fernet.js'
import { cpuMs, fmt, freePort, sleep, spread, summarize, type Summary } from './lib.js'
import type { StormOrder, StormReport } from './reaction-storm.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const MESSAGE_FRAME = Buffer.from('{"type":"message",')
const startsWith = (data: Buffer, prefix: Buffer): boolean =>
  data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0

export interface LifecycleResult {
  /** Per run, in the order they ran (alternating). */
  noStorm: Summary[]
  storm: Summary[]
  reactionsPerSec: number[]
  /** The server's CPU time during the storm run, per reaction, and in cores. */
  stormCpu: Array<{ msPerReaction: number, cores: number }>
  catchUp: { changes: number, pages: number, pagesPerSec: number, messagesPerSec: number }
}

export interface LifecycleOptions {
  listeners: number
  reactors: number
  durationMs: number
  ratePerSec: number
  /** Runs with and without the storm (each). */
  runs: number
  changes: number
  /** Runs the server under --cpu-prof, writing its profile here when it exits. */
  cpuProfDir?: string
}

export async function lifecycleBench (o: LifecycleOptions, build = true): Promise<LifecycleResult> {
  if (build || !existsSync(join(ROOT, 'dist', 'server.js'))) {
    const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build failed')
  }
  const dir = mkdtempSync(join(tmpdir(), 'secure-chat-bench-lifecycle-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [...(o.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`]), join(ROOT, 'dist', 'server.js')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn',
      DATABASE_URL: join(dir, 'chat.db'), MEDIA_DIR: join(dir, 'media'), ENCRYPTION_KEY: Fernet.generateKey(),
      SECRET_KEY: Fernet.generateKey() + Fernet.generateKey(), BCRYPT_COST: '4',
      MESSAGES_PER_SECOND: '0', CHANGES_PER_SECOND: '0', REGISTRATIONS_PER_HOUR: '0', MAX_SOCKETS_PER_USER: '0'
    }
  })
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/api/health`)).ok) break } catch {}
      if (i > 200) throw new Error('server did not start')
      await sleep(50)
    }
    const api = async (token: string, method: string, path: string, body?: unknown): Promise<any> => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
      return res.status === 204 ? null : await res.json()
    }
    // 121 registrations at once may find the password queue full (503): those wait and try again.
    const register = async (name: string): Promise<string> => {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: 'bench password 1' }) })
        if (res.status === 201) return ((await res.json()) as { token: string }).token
        if (res.status !== 503 || attempt >= 20) throw new Error(`register ${name}: ${res.status} ${await res.text()}`)
        await sleep(250)
      }
    }
    const sender = await register('sender')
    const reactors = await Promise.all([...Array(o.reactors).keys()].map(async (i) => register(`reactor${i}`)))

    // Listeners record when each timed message arrives. Once joined they read `message` frames
    // only: the storm's `message_updated` frames share these 2 cores with the server, and parsing
    // every one here would count the bench's own work as delivery time.
    const arrivals: number[] = []
    const sockets = await Promise.all([...Array(o.listeners).keys()].map(async (i) => {
      const token = await register(`listener${i}`)
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['bearer', token], { perMessageDeflate: false, skipUTF8Validation: true })
      let joined = false
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data: Buffer) => {
          const at = performance.now()
          if (joined && !startsWith(data, MESSAGE_FRAME)) return
          const frame = JSON.parse(String(data))
          if (frame.type === 'ready') ws.send(JSON.stringify({ type: 'join', roomId: 1 }))
          if (frame.type === 'joined') {
            joined = true
            resolve()
          }
          if (frame.type === 'message' && frame.message.body.startsWith('t:')) arrivals.push(at - Number(frame.message.body.slice(2)))
        })
        ws.on('error', reject)
      })
      return ws
    }))
    const target = (await api(sender, 'POST', '/api/rooms/1/messages', { body: 'react to me' })).message.id as number

    const timedRun = async (storm: boolean): Promise<{ summary: Summary, reactions: number, cpu: { msPerReaction: number, cores: number } }> => {
      arrivals.length = 0
      // The storm's users in a process of their own (bench/reaction-storm.ts).
      const stormer = storm ? fork(join(ROOT, 'bench', 'reaction-storm.ts'), [], { execArgv: ['--import', TSX], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) : null
      const report = stormer === null
        ? Promise.resolve<StormReport>({ reactions: 0, seconds: 1, failed: null })
        : new Promise<StormReport>((resolve, reject) => {
          stormer.on('message', (m: 'started' | StormReport) => { if (m !== 'started') resolve(m) })
          stormer.once('exit', (code) => reject(new Error(`the reaction storm exited (${code}) without a report`)))
        })
      if (stormer !== null) {
        await new Promise<void>((resolve) => {
          stormer.once('message', () => resolve())
          stormer.send({ base, tokens: reactors, roomId: 1, messageId: target } satisfies StormOrder)
        })
      }
      const started = performance.now()
      const cpuBefore = cpuMs(child.pid!)
      const sends: Array<Promise<unknown>> = []
      for (let n = 0; performance.now() - started < o.durationMs; n++) {
        sends.push(api(sender, 'POST', '/api/rooms/1/messages', { body: `t:${performance.now()}` }))
        await sleep(1000 / o.ratePerSec)
      }
      await Promise.all(sends)
      await sleep(500)
      stormer?.send('stop')
      const storms = await report
      const cpu = cpuMs(child.pid!) - cpuBefore
      if (storms.failed !== null) throw new Error(`reaction storm: ${storms.failed}`)
      return {
        summary: summarize(arrivals),
        reactions: storms.reactions / storms.seconds,
        cpu: { msPerReaction: cpu / storms.reactions, cores: cpu / (performance.now() - started) }
      }
    }
    const noStorm: Awaited<ReturnType<typeof timedRun>>[] = []
    const storm: Awaited<ReturnType<typeof timedRun>>[] = []
    for (let run = 0; run < o.runs; run++) {
      for (const withStorm of run % 2 === 0 ? [false, true] : [true, false]) {
        (withStorm ? storm : noStorm).push(await timedRun(withStorm))
      }
    }
    for (const ws of sockets) ws.close()

    // Catch-up: a room of its own, `changes` changes (half sends, then a reaction on each of those
    // messages), then paged through from seq 0, again and again for at least a second. A catch-up
    // answers each changed message once, in its latest state: the changes touch as many messages
    // as there are changes / 2, so the pages hold that many (toggling a few messages would fold
    // 10,000 changes into one page).
    const room = (await api(sender, 'POST', '/api/rooms', { name: 'catch-up' })).room.id as number
    const ids: number[] = []
    let made = 0
    while (made < o.changes) {
      const batch = Math.min(100, o.changes - made)
      if (made < o.changes / 2) {
        for (const m of await Promise.all([...Array(batch).keys()].map(async (i) => api(sender, 'POST', `/api/rooms/${room}/messages`, { body: `c${made + i}` })))) ids.push(m.message.id)
      } else {
        const from = made - Math.ceil(o.changes / 2)
        await Promise.all([...Array(batch).keys()].map(async (i) =>
          api(reactors[i % reactors.length]!, 'PUT', `/api/rooms/${room}/messages/${ids[(from + i) % ids.length]}/reactions/${encodeURIComponent('👍')}`)))
      }
      made += batch
    }
    const started = performance.now()
    let pages = 0
    let messages = 0
    do {
      let since = 0
      for (;;) {
        const page = await api(sender, 'GET', `/api/rooms/${room}/changes?since=${since}&limit=500`)
        pages++
        messages += page.messages.length
        since = page.messages.at(-1)?.seq ?? since
        if (!page.hasMore) break
      }
    } while (performance.now() - started < 1000)
    const seconds = (performance.now() - started) / 1000
    return {
      noStorm: noStorm.map((r) => r.summary),
      storm: storm.map((r) => r.summary),
      reactionsPerSec: storm.map((r) => r.reactions),
      stormCpu: storm.map((r) => r.cpu),
      catchUp: { changes: made, pages, pagesPerSec: pages / seconds, messagesPerSec: messages / seconds }
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** "median (min–max)" of one figure over the runs. */
function figure (values: readonly number[]): { median: number, text: string } {
  const s = spread(values)
  if (s === null) return { median: NaN, text: 'n/a' }
  return { median: s.median, text: s.n > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median) }
}

export function describeLifecycle (r: LifecycleResult): string {
  const quiet = figure(r.noStorm.map((s) => s.p99))
  const stormy = figure(r.storm.map((s) => s.p99))
  const ratio = quiet.median > 0 ? stormy.median / quiet.median : NaN
  const runs = `${r.storm.length} run(s) of each, ${r.storm[0]?.count ?? 0} deliveries in a run, median (min–max)`
  return [
    `lifecycle: delivery p99 ${quiet.text} ms without a storm, ${stormy.text} ms during one (${figure(r.reactionsPerSec).text} reactions/s; ${runs}): ${fmt(ratio)}× (goal ≤ 1.5×)`,
    `lifecycle: delivery p50 ${figure(r.noStorm.map((s) => s.p50)).text} ms without a storm, ${figure(r.storm.map((s) => s.p50)).text} ms during one; server CPU during the storm ${figure(r.stormCpu.map((c) => c.msPerReaction)).text} ms per reaction (${figure(r.stormCpu.map((c) => c.cores)).text} cores)`,
    `lifecycle: catch-up of ${r.catchUp.changes} changes (${r.catchUp.pages} pages of up to 500 read in the timed loop): ${fmt(r.catchUp.pagesPerSec)} pages/s (${fmt(r.catchUp.messagesPerSec)} messages/s)`
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick')
  const profile = process.argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length)
  const result = await lifecycleBench({
    ...(quick
      ? { listeners: 5, reactors: 20, durationMs: 1500, ratePerSec: 20, runs: 1, changes: 1000 }
      : { listeners: 20, reactors: 100, durationMs: 8000, ratePerSec: 40, runs: 3, changes: 10_000 }),
    ...(profile === undefined ? {} : { cpuProfDir: profile })
  }, !process.argv.includes('--no-build'))
  console.log(describeLifecycle(result))
}
