// `npm run bench -- --only=images` (also part of a full run), or on its own:
// `node --import tsx bench/images.ts [--no-build]`. Image bombs against the real server
// (`node dist/server.js`, production settings, MALLOC_ARENA_MAX=2 as `npm start` sets it): eight
// users upload at once, while a ninth user's ordinary 100 KB JPEG must still answer quickly and
// the server's memory must stay bounded. About a minute.
//   1. bombs: eight ~500-byte AVIFs whose header claims 7000×7000, 12-bit with alpha (about 2 GB
//      each to decode) — refused from the header;
//   2. at the limit: eight real 12-bit AVIFs with alpha just under their limit (4.8 MP), which are
//      decoded and re-encoded — the most memory-hungry uploads the server accepts.
// Targets: server peak RSS < 512 MB, the other user's JPEG answered within 2 s, no 5xx but 503.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { Fernet } from '../src/crypto/fernet.js'
import { freePort, sleep } from './lib.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MB = 1024 * 1024
const USERS = 8

const kib = (path: string, field: string): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(path, 'utf8'))
  return match === null ? Number.NaN : Number(match[1]) * 1024
}

async function avifBomb (): Promise<Buffer> {
  const small = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).avif({ effort: 0, bitdepth: 12 }).toBuffer()
  const bomb = Buffer.from(small)
  for (let i = bomb.indexOf('ispe'); i !== -1; i = bomb.indexOf('ispe', i + 4)) {
    bomb.writeUInt32BE(7000, i + 8)
    bomb.writeUInt32BE(7000, i + 12)
  }
  return bomb
}

/** About 100 KB: a 1600×1200 photo-like JPEG (blurred noise compresses like a photo). */
const photoJpeg = (): Promise<Buffer> =>
  sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#6699cc', noise: { type: 'gaussian', mean: 120, sigma: 12 } } })
    .blur(1.2).jpeg({ quality: 80 }).toBuffer()

async function uploadFile (url: string, token: string, bytes: Buffer, name: string): Promise<{ status: number, ms: number }> {
  const form = new FormData()
  form.append('file', new Blob([bytes]), name)
  const t0 = performance.now()
  const res = await fetch(`${url}/api/rooms/1/uploads`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })
  await res.arrayBuffer()
  return { status: res.status, ms: performance.now() - t0 }
}

async function register (url: string, username: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'bench-password-123' }) })
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { token: string }).token
}

interface Phase { name: string, peakRssMb: number, jpegMs: number, jpegStatus: number, statuses: Record<string, number>, seconds: number }

async function phase (name: string, url: string, pid: number, tokens: string[], other: string, file: Buffer, jpeg: Buffer): Promise<Phase> {
  let peak = 0
  let sampling = true
  const sampler = (async () => { while (sampling) { peak = Math.max(peak, kib(`/proc/${pid}/status`, 'VmRSS')); await sleep(20) } })()
  const t0 = performance.now()
  const uploads = tokens.map((token, i) => uploadFile(url, token, file, `${name}-${i}.avif`))
  await sleep(100) // the uploads are in
  const other1 = await uploadFile(url, other, jpeg, 'holiday.jpg')
  const results = await Promise.all(uploads)
  const seconds = (performance.now() - t0) / 1000
  sampling = false
  await sampler
  peak = Math.max(peak, kib(`/proc/${pid}/status`, 'VmHWM')) // the kernel's own high-water mark
  const statuses: Record<string, number> = {}
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1
  return { name, peakRssMb: peak / MB, jpegMs: other1.ms, jpegStatus: other1.status, statuses, seconds }
}

export async function imagesBench (build = true): Promise<Phase[]> {
  if (build || !existsSync(join(ROOT, 'dist', 'server.js'))) {
    const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build failed')
  }
  const dir = mkdtempSync(join(tmpdir(), 'secure-chat-bench-images-'))
  const port = await freePort()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn',
      DATABASE_URL: join(dir, 'chat.db'), MEDIA_DIR: join(dir, 'media'), ENCRYPTION_KEY: Fernet.generateKey(),
      MALLOC_ARENA_MAX: '2', // as `npm start` runs it: see README, Operations
      SECRET_KEY: 'bench-secret-that-is-long-enough-0123456789', BCRYPT_COST: '10', REGISTRATIONS_PER_HOUR: '0', UPLOAD_QUOTA_MB: '0'
    }
  })
  const url = `http://127.0.0.1:${port}`
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break
      if (i > 300) throw new Error('the server did not start')
      await sleep(100)
    }
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => register(url, `bomber${i}`)))
    const other = await register(url, 'bystander')
    const [bomb, atLimit, jpeg] = await Promise.all([
      avifBomb(),
      sharp({ create: { width: 2200, height: 2200, channels: 4, background: { r: 9, g: 99, b: 199, alpha: 0.7 } } }).avif({ effort: 0, bitdepth: 12 }).toBuffer(),
      photoJpeg()
    ])
    const idleRss = kib(`/proc/${child.pid!}/status`, 'VmRSS') / MB
    console.log(`images: server idle RSS ${idleRss.toFixed(0)} MB; bomb ${bomb.length} B (claims 7000×7000, 12-bit, alpha); at-limit AVIF ${(atLimit.length / 1024).toFixed(0)} KB (2200×2200, 12-bit, alpha); bystander JPEG ${(jpeg.length / 1024).toFixed(0)} KB`)
    const phases: Phase[] = []
    for (const [name, file] of [['bombs', bomb], ['at-limit', atLimit]] as const) {
      const p = await phase(name, url, child.pid!, tokens, other, file, jpeg)
      phases.push(p)
      const ok = p.peakRssMb < 512 && p.jpegMs < 2000 && p.jpegStatus === 201
      console.log(`  ${name.padEnd(8)} ${USERS} parallel uploads → ${Object.entries(p.statuses).map(([s, n]) => `${n}× ${s}`).join(', ')} in ${p.seconds.toFixed(1)} s; ` +
        `server peak RSS ${p.peakRssMb.toFixed(0)} MB (target < 512); another user's JPEG ${p.jpegStatus} in ${p.jpegMs.toFixed(0)} ms (target < 2000) ${ok ? 'ok' : 'MISSED'}`)
    }
    return phases
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  imagesBench(!process.argv.includes('--no-build')).then((phases) => {
    console.log(JSON.stringify({ images: phases }))
  }, (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
