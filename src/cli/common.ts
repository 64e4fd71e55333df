// What the operator tools share with the server: settings read exactly as it reads them (`.env`
// in the working directory, the environment winning; the key files beside it), and one-line errors.
import dotenv from 'dotenv'
import { ConfigError, parseConfig, type Config } from '../config.js'
import { KeyMismatchError } from '../storage/index.js'
import { MaintenanceError } from '../storage/maintenance.js'

export function loadSettings (): Config {
  dotenv.config({ quiet: true })
  // Never generates keys: a tool that made a new key would make a database nobody can read.
  // The JWT secret is not needed here, so a missing `.secret_key` is no reason to stop.
  const secret = process.env.SECRET_KEY?.trim() ?? ''
  const config = parseConfig({ ...process.env, SECRET_KEY: secret === '' ? 'not used by the operator tools, only by the server' : secret })
  if (config.databasePath === ':memory:') throw new MaintenanceError('DATABASE_URL is :memory:, which has nothing to keep.')
  return config
}

/** `--name=value` or `--name value`, as a whole number. */
export function intFlag (args: readonly string[], name: string, fallback: number): number {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i === -1) return fallback
  const text = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1]
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) throw new MaintenanceError(`--${name} needs a whole number, got "${text ?? ''}".`)
  return value
}

/** Problems an operator can fix get one line; anything else its message, still one line. Exit 1. */
export function fail (tool: string, error: unknown): never {
  const known = error instanceof ConfigError || error instanceof KeyMismatchError || error instanceof MaintenanceError
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  if (known) console.error(message)
  else if (code === 'SQLITE_BUSY') console.error(`${tool}: the database stayed locked; try again (or with a smaller --batch-size).`)
  else console.error(`${tool} failed: ${message.split('\n')[0]}`)
  process.exit(1)
}
