// Runs the real server process (src/server.ts through tsx) in a temp working directory, for tests
// about processes: start-up, signals, kill -9, restarts.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
// tsx's loader by absolute URL: the process runs in a temp dir where 'tsx' would not resolve.
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const serverArgs = ['--import', TSX, `${ROOT}src/server.ts`]

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface ServerProcess {
  child: ChildProcess
  port: number
  url: string
  output: () => string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>
  stop: (signal?: NodeJS.Signals) => Promise<number | string>
}

/** Starts `src/server.ts` with only the given environment (plus PATH) in `cwd`, and waits for /api/health. */
export async function startServer (cwd: string, env: Record<string, string> = {}, { timeoutMs = 20_000 } = {}): Promise<ServerProcess> {
  const port = Number(env.PORT ?? await freePort())
  const child = spawn(process.execPath, serverArgs, {
    cwd,
    env: { PATH: process.env.PATH ?? '', BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => { log += chunk.toString(); out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); err += chunk.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  let ended = false
  void exited.then(() => { ended = true })
  while (true) {
    if (ended) throw new Error(`server exited before it was healthy:\n${log}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server not healthy after ${timeoutMs} ms:\n${log}`)
    }
    try {
      const res = await fetch(`${url}/api/health`)
      if (res.ok) break
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    child,
    port,
    url,
    output: () => log,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (!ended) child.kill(signal)
      return exited
    }
  }
}

/** Runs the server process to its end (for start-up failures) and returns its exit code and output. */
export async function runServerToExit (cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null, output: string, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, serverArgs, {
    cwd,
    env: { PATH: process.env.PATH ?? '', BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); stderr += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, output, stdout, stderr }
}
