// What the process tells the operator at start, as plain lines (not log JSON): where its data
// lives, which key files it read or made, and what is wrong but not fatal. Relative paths in the
// settings resolve against the working directory, so these lines name absolute paths: a start
// from the wrong folder shows at once, instead of quietly making a fresh database there.
import type { Config } from './config.js'

const row = (label: string, value: string): string => `  ${label.padEnd(15)} ${value}`

export function startupLines (config: Config, cwd: string): string[] {
  const lines = [
    `Secure Chat: working directory ${cwd} (relative paths in the settings, .env and the key files are found here)`,
    row('database', config.databasePath),
    row('media folder', config.mediaDir)
  ]
  for (const setting of ['SECRET_KEY', 'ENCRYPTION_KEY'] as const) {
    const file = config.keyFiles.find((key) => key.setting === setting)
    lines.push(row(setting, file === undefined ? 'from the environment' : file.path))
  }
  for (const file of config.keyFiles) {
    if (file.generated) lines.push(`generated ${file.path.split('/').pop() ?? file.path} — back it up with the database`)
  }
  return lines
}

/** Loud on purpose: these are easy to miss among log lines. */
export function warningLines (config: Config): string[] {
  return config.warnings.map((warning) => `WARNING: ${warning}`)
}
