// Helpers for the hardening tests: a multipart body builder, a read-only snapshot of every table,
// and a log sink that keeps the lines an app writes.
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'

export interface Part { name: string, value: string | Buffer, filename?: string, type?: string }

/** A multipart/form-data body and its content type. */
export function multipart (parts: readonly Part[]): { payload: Buffer, headers: Record<string, string> } {
  const boundary = `----hardening${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
      (part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`) + '\r\n'))
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** A tiny PDF: file-type knows it by its magic bytes, and no image processing runs. */
export const TINY_PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n')

/** Row count and a hash of the contents of every table, through a separate read-only connection. */
export function snapshot (databasePath: string): Record<string, string> {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]
    const result: Record<string, string> = {}
    for (const table of tables) {
      const rows = db.prepare(`SELECT * FROM "${table}" ORDER BY 1`).raw().all()
      result[table] = `${rows.length}:${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)}`
    }
    return result
  } finally {
    db.close()
  }
}

/** A pino destination that keeps every line. */
export function logSink (): { write: (line: string) => void, lines: string[], text: () => string } {
  const lines: string[] = []
  return { write: (line: string) => { lines.push(line) }, lines, text: () => lines.join('') }
}

export type Frame = { type: string } & Record<string, any>

/** A `ws` client that keeps its frames and can wait for one. */
export class Sock {
  readonly frames: Frame[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number, reason: string }>
  readonly ws: import('ws').WebSocket
  #wake: Array<() => void> = []

  constructor (ws: import('ws').WebSocket) {
    this.ws = ws
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? { type: '<binary>' } : JSON.parse(String(data)) as Frame)
      for (const wake of this.#wake) wake()
    })
    ws.on('error', () => {})
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
      ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  send (data: unknown, options?: { binary?: boolean }): void {
    this.ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data), options ?? {})
  }

  /** The first frame after index `from` that matches. */
  async wait (match: (f: Frame) => boolean, from = 0, timeoutMs = 5000): Promise<Frame> {
    const find = () => this.frames.slice(from).find(match)
    return find() ?? new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(this.frames.slice(from)).slice(0, 400)}`)), timeoutMs)
      const wake = () => {
        const f = find()
        if (f === undefined) return
        clearTimeout(timer)
        this.#wake = this.#wake.filter((w) => w !== wake)
        resolve(f)
      }
      this.#wake.push(wake)
    })
  }

  /** Sends and waits for the next frame of one of these types. */
  async ask (data: unknown, ...types: string[]): Promise<Frame> {
    const from = this.frames.length
    this.send(data)
    return this.wait((f) => types.includes(f.type), from)
  }
}

export async function openSocket (base: string, token: string | null, headers: Record<string, string> = {}): Promise<Sock> {
  const { WebSocket } = await import('ws')
  const url = `${base.replace(/^http/, 'ws')}/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`
  const sock = new Sock(new WebSocket(url, { headers }))
  return sock
}

/** Runs one of the operator tools (src/cli/<name>.ts through tsx) in `cwd`, as `npm run <name>` would. */
export function runTool (name: 'rotate-keys' | 'backup' | 'reindex', cwd: string, env: Record<string, string>, args: string[] = []) {
  const root = new URL('../../', import.meta.url)
  const tsx = new URL('node_modules/tsx/dist/loader.mjs', root).href
  const child = spawn(process.execPath, ['--import', tsx, new URL(`src/cli/${name}.ts`, root).pathname, ...args], {
    cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  const listeners: Array<() => void> = []
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); for (const l of listeners) l() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Resolves once stdout matches. */
    async waitForOutput (pattern: RegExp, timeoutMs = 20_000): Promise<void> {
      if (pattern.test(stdout)) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in output:\n${stdout}${stderr}`)), timeoutMs)
        listeners.push(() => { if (pattern.test(stdout)) { clearTimeout(timer); resolve() } })
        void exited.then(() => { if (!pattern.test(stdout)) { clearTimeout(timer); reject(new Error(`exited without ${pattern}:\n${stdout}${stderr}`)) } })
      })
    }
  }
}
