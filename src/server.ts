// The process: read settings, build the app, listen, and shut down cleanly on SIGTERM/SIGINT.
// Start-up lines are plain text (stdout; warnings and the reason for a failed start on stderr);
// everything after is the JSON log.
import dotenv from 'dotenv'
import { buildApp } from './app.js'
import { ConfigError, parseConfig } from './config.js'
import { startupLines, warningLines } from './startup.js'
import { KeyMismatchError } from './storage/index.js'
import { StorageProblem } from './storage/problems.js'

const FS_REASONS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder'
}

/** Problems an operator can fix get one plain line, not a stack trace. */
function fail (error: unknown): never {
  const known = error instanceof ConfigError || error instanceof KeyMismatchError || error instanceof StorageProblem
  const message = error instanceof Error ? error.message : String(error)
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException
  if (known) console.error(message)
  else if (code === 'EADDRINUSE') console.error(`Port in use: another program listens on it. Stop it, or start with PORT=<another port>. (${message})`)
  else if (code === 'EACCES' && path === undefined) console.error(`Permission denied: ${message}`)
  // A key file that cannot be written, in a read-only or foreign working directory.
  else if (path !== undefined) console.error(`Cannot write ${path}: ${FS_REASONS[code ?? ''] ?? message}. Start the server in a folder its user can write, or set the keys in the environment (see "Data files" in the README).`)
  else console.error(error)
  process.exit(1)
}

async function main (): Promise<void> {
  dotenv.config({ quiet: true }) // `.env` fills in what the environment does not set
  const config = parseConfig(process.env, { generateKeys: true })
  for (const line of warningLines(config)) console.error(line)
  const app = await buildApp(config)
  await app.ready()
  for (const line of startupLines(config, process.cwd())) console.log(line)

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'error while shutting down')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  await app.listen({ port: config.port, host: config.host })
  const { port } = app.server.address() as { port: number }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  console.log(`listening on http://${host}:${port}`)
}

main().catch(fail)
