// Login throttling: delays that grow with failures and shrink with time, so guessing is slow but
// nobody is locked out for good. Two keys: the username (any address) and the client address (any
// username, with a larger budget: hairpin NAT can put a whole LAN behind one address). No Fastify
// imports; the clock is injectable for tests.
//
// Rules, per key: the first `free` failures cost nothing. After n >= free failures, the next
// attempt must wait 2^(n - free) s after the last failure, capped at `maxDelayMs`. One failure is
// forgiven every `decayMs`. An attempt is counted as a failure when it *starts* (so a burst of
// parallel guesses cannot all slip through before bcrypt answers); a success then resets the
// username and gives the address its attempt back. While a key waits, every attempt is refused
// before the password is checked: the right password gets the same 429 (no oracle).

export interface ThrottleRule {
  /** Failures allowed before delays start. */
  free: number
}

export interface LoginThrottleOptions {
  perUsername?: ThrottleRule
  perAddress?: ThrottleRule
  /** Longest wait, however many failures. */
  maxDelayMs?: number
  /** One failure is forgiven per this many ms without a new one. */
  decayMs?: number
  /** Entries kept per key kind before the quietest are dropped (memory bound). */
  maxEntries?: number
  now?: () => number
}

export type Attempt =
  | { allowed: true, succeeded: () => void }
  | { allowed: false, retryAfterMs: number, scope: 'username' | 'address' }

interface Entry { score: number, at: number }

/** The longer of the two waits, naming what it is for; null when neither applies. */
export function refusal (byUser: number, byAddress: number): Attempt | null {
  if (byUser <= 0 && byAddress <= 0) return null
  return byUser >= byAddress
    ? { allowed: false, retryAfterMs: byUser, scope: 'username' }
    : { allowed: false, retryAfterMs: byAddress, scope: 'address' }
}

export interface LoginThrottle {
  /** Call before checking a password; on `allowed`, call `succeeded()` if the password was right. */
  attempt: (username: string, address: string) => Attempt
  /** Milliseconds this username or address must still wait (0 = may try now). For tests and logs. */
  waitMs: (username: string, address: string) => number
}

class Counter {
  readonly #entries = new Map<string, Entry>()
  constructor (
    readonly free: number,
    readonly maxDelayMs: number,
    readonly decayMs: number,
    readonly maxEntries: number
  ) {}

  #score (entry: Entry, now: number): number {
    return Math.max(0, entry.score - (now - entry.at) / this.decayMs)
  }

  waitMs (key: string, now: number): number {
    const entry = this.#entries.get(key)
    if (entry === undefined) return 0
    // Failures so far, decayed; ceil so a just-decayed fraction still counts as the failure it was.
    const n = Math.ceil(this.#score(entry, now) - 1e-9)
    if (n < this.free) return 0
    const delay = Math.min(this.maxDelayMs, 1000 * 2 ** Math.min(n - this.free, 40))
    return Math.max(0, entry.at + delay - now)
  }

  add (key: string, amount: number, now: number): void {
    const entry = this.#entries.get(key)
    const score = (entry === undefined ? 0 : this.#score(entry, now)) + amount
    this.#entries.delete(key) // re-insert: Map order then runs from least to most recently touched
    // A refund (success) keeps the time of the last failure, so it does not restart the delay.
    if (score > 0) this.#entries.set(key, { score, at: amount > 0 || entry === undefined ? now : entry.at })
    if (this.#entries.size > this.maxEntries) this.#prune(now)
  }

  reset (key: string): void {
    this.#entries.delete(key)
  }

  #prune (now: number): void {
    for (const [key, entry] of this.#entries) if (this.#score(entry, now) <= 0) this.#entries.delete(key)
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break
      this.#entries.delete(key)
    }
  }
}

/** Usernames are unique without regard to case, so their throttle is too. */
const usernameKey = (username: string): string => username.normalize('NFC').toLowerCase()

export function createLoginThrottle ({
  perUsername = { free: 5 },
  perAddress = { free: 30 },
  maxDelayMs = 15 * 60_000,
  decayMs = 10 * 60_000,
  maxEntries = 50_000,
  now = () => Date.now()
}: LoginThrottleOptions = {}): LoginThrottle {
  const users = new Counter(perUsername.free, maxDelayMs, decayMs, maxEntries)
  const addresses = new Counter(perAddress.free, maxDelayMs, decayMs, maxEntries)

  return {
    attempt (username, address) {
      const t = now()
      const user = usernameKey(username)
      const byUser = users.waitMs(user, t)
      const byAddress = addresses.waitMs(address, t)
      const refused = refusal(byUser, byAddress)
      if (refused !== null) return refused
      users.add(user, 1, t)
      addresses.add(address, 1, t)
      let settled = false
      return {
        allowed: true,
        succeeded () {
          if (settled) return
          settled = true
          users.reset(user)
          addresses.add(address, -1, now())
        }
      }
    },
    waitMs (username, address) {
      const t = now()
      return Math.max(users.waitMs(usernameKey(username), t), addresses.waitMs(address, t))
    }
  }
}
