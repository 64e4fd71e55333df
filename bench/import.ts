// `npm run bench -- --only=import` (also part of a full run), or on its own:
// `node --import tsx bench/import.ts [--messages=N] [--store=sqlite|postgres]`. `npm run import` of
// an original-format folder (built here: 100,000 text messages over 3 rooms and 10 users, real
// Fernet tokens and bcrypt hashes) into a fresh database, the real CLI in its own process: a SQLite
// file, then a fresh schema on the PostgreSQL at BENCH_PG_URL (default: the tests' server,
// postgres@127.0.0.1:5432, which `.ci/run` starts), dropped afterwards. Target: ≥ 5,000 messages/s
// over the whole command (key check, users, rooms, messages; process start-up included). Also
// printed: messages per CPU-second of the import process, and how many cores other processes used
// meanwhile (on a shared machine the wall-clock figure is only as good as the machine is quiet).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { Fernet } from '../src/crypto/fernet.js'
import { cpuMs, systemBusyMs } from './lib.js'
import { OriginalApp } from '../test/import/fixture.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const TARGET = 5000

export type ImportStore = 'sqlite' | 'postgres'
const PG_URL = process.env.BENCH_PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface ImportBenchResult { store: ImportStore, messages: number, seconds: number, perSecond: number, cliPerSecond: number | null, perCpuSecond: number, otherCores: number, ok: boolean }

/** A fresh schema of its own (its URL names it as the search_path), and how to drop it. */
async function pgSchema (): Promise<{ url: string, drop: () => Promise<void> }> {
  const name = `bench_import_${randomBytes(6).toString('hex')}`
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await admin.unsafe(`CREATE SCHEMA ${name}`)
  } catch (error) {
    await admin.end({ timeout: 1 })
    throw new Error(`no PostgreSQL at ${PG_URL} (BENCH_PG_URL): ${(error as Error).message}`)
  }
  const url = new URL(PG_URL)
  url.searchParams.set('search_path', name)
  return {
    url: url.toString(),
    async drop () {
      await admin.unsafe(`DROP SCHEMA ${name} CASCADE`)
      await admin.end({ timeout: 1 })
    }
  }
}

export async function importBench (messages = 100_000, store: ImportStore = 'sqlite'): Promise<ImportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'secure-chat-bench-import-'))
  const schema = store === 'postgres' ? await pgSchema() : null
  try {
    const original = new OriginalApp(join(dir, 'old'))
    const users = Array.from({ length: 10 }, (_, i) => original.addUser({ username: `user ${i}`, password: `password ${i}` }))
    original.addTextMessages(messages, [1, 2, 3], users)
    original.close()
    const env = { PATH: process.env.PATH ?? '', ENCRYPTION_KEY: Fernet.generateKey(), DATABASE_URL: schema?.url ?? join(dir, 'ours', 'chat.db'), MEDIA_DIR: join(dir, 'ours', 'media') }
    const started = performance.now()
    const busyBefore = systemBusyMs()
    let cpu = 0
    const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src', 'cli', 'import.ts'), join(dir, 'old')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      // The last reading before it exits (a tenth of a second short at most).
      const poll = setInterval(() => { const ms = cpuMs(child.pid!); if (Number.isFinite(ms)) cpu = ms }, 100)
      child.once('exit', () => clearInterval(poll))
      let out = ''
      let err = ''
      child.stdout.on('data', (c: Buffer) => { out += c.toString() })
      child.stderr.on('data', (c: Buffer) => { err += c.toString() })
      child.once('close', (c) => resolve({ code: c, stdout: out, stderr: err }))
    })
    const seconds = (performance.now() - started) / 1000
    const otherCores = Math.max(0, (systemBusyMs() - busyBefore - cpu) / 1000 / seconds)
    if (code !== 0 || !stdout.includes(`messages: ${messages} imported`)) throw new Error(`import failed (${code}):\n${stdout}${stderr}`)
    // The CLI's own last progress line: the rate over the users, rooms and messages it wrote.
    const last = /([\d,]+)\/s\n$/.exec(stderr)
    const cliPerSecond = last === null ? null : Number(last[1]!.replace(/,/g, ''))
    const perSecond = Math.round(messages / seconds)
    return { store, messages, seconds, perSecond, cliPerSecond, perCpuSecond: Math.round(messages / (cpu / 1000)), otherCores, ok: perSecond >= TARGET }
  } finally {
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export function describeImport (r: ImportBenchResult): string {
  return `import into ${r.store === 'postgres' ? 'PostgreSQL' : 'SQLite'} (npm run import, ${r.messages.toLocaleString('en-US')} messages): ${r.perSecond.toLocaleString('en-US')} messages/s over the whole command ` +
    `(${r.seconds.toFixed(1)} s${r.cliPerSecond === null ? '' : `; ${r.cliPerSecond.toLocaleString('en-US')}/s while writing`}; ` +
    `${r.perCpuSecond.toLocaleString('en-US')} per CPU-second of the import; other processes used ${r.otherCores.toFixed(2)} cores meanwhile); ` +
    `target ≥ ${TARGET.toLocaleString('en-US')}/s: ${r.ok ? 'met' : 'MISSED'}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv.find((a) => a.startsWith('--messages='))?.slice(11) ?? 100_000)
  const store = process.argv.find((a) => a.startsWith('--store='))?.slice(8) === 'postgres' ? 'postgres' : 'sqlite'
  importBench(n, store).then((r) => console.log(describeImport(r)), (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
