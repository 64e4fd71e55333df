// The process: read settings, build the app, listen, and shut down cleanly on SIGTERM/SIGINT.
import dotenv from 'dotenv'
import { buildApp } from './app.js'
import { ConfigError, parseConfig } from './config.js'
import { KeyMismatchError } from './storage/index.js'

/** Problems an operator can fix get one plain line, not a stack trace. */
function fail (error: unknown): never {
  const known = error instanceof ConfigError || error instanceof KeyMismatchError
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as NodeJS.ErrnoException | null)?.code
  if (known) console.error(message)
  else if (code === 'EADDRINUSE') console.error(`Port in use: another program listens on it. Stop it, or start with PORT=<another port>. (${message})`)
  else if (code === 'EACCES') console.error(`Permission denied: ${message}`)
  else console.error(error)
  process.exit(1)
}

async function main (): Promise<void> {
  dotenv.config({ quiet: true }) // `.env` fills in what the environment does not set
  const config = parseConfig(process.env, { generateKeys: true })
  const app = await buildApp(config)
  await app.ready()

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
}

main().catch(fail)
