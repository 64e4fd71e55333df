/** A setting that cannot be used: its message is the one line the process prints before it exits. */
export class ConfigError extends Error {
  constructor (setting: string, want: string) {
    super(`Invalid setting ${setting}: expected ${want}`)
    this.name = 'ConfigError'
  }
}
