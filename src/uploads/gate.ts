// The image gate: decoding an image costs memory in proportion to its pixels, so images take
// turns by their estimated cost rather than by count. Large images together may hold at most
// `largeBytes`, so the rest of the budget always lets small ones (a phone photo shrunk by a chat
// app) through quickly while a large one is being decoded. The queue is short and bounded in
// time; each user has at most one image in it, running or waiting; a request whose client has gone
// leaves the queue at once.
import { AppError, errors } from '../errors.js'

export interface GateLimits {
  /** Memory all images being processed may hold together. */
  totalBytes: number
  /** Memory images costing more than `smallBytes` may hold together (≤ totalBytes). */
  largeBytes: number
  smallBytes: number
  /** Images that may wait for their turn; one more is refused with 503. */
  maxWaiting: number
  /** How long an image may wait before it is refused with 503. */
  maxWaitMs: number
}

interface Waiter { cost: number, start: () => void }

/** The client went away: nobody is left to answer. */
export class Abandoned extends Error {
  constructor () {
    super('the client went away')
    this.name = 'Abandoned'
  }
}

const RETRY_SECONDS = '5'

export class ImageGate {
  #used = 0
  #largeUsed = 0
  #running = 0
  readonly #users = new Set<number>()
  readonly #waiting: Waiter[] = []

  constructor (readonly limits: GateLimits) {}

  /** For health checks and tests: what runs and waits now. */
  stats (): { running: number, waiting: number, usedBytes: number } {
    return { running: this.#running, waiting: this.#waiting.length, usedBytes: this.#used }
  }

  /**
   * Runs `work` once `cost` bytes fit in the budget. Throws 429 when the user already has an image
   * here, 503 (with Retry-After) when the queue is full or the wait too long, and Abandoned when
   * `signal` fires while waiting.
   */
  async run<T> (userId: number, cost: number, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw new Abandoned()
    if (this.#users.has(userId)) {
      throw errors.rateLimited(2, 'Your previous image is still being processed: send the next one when it is done.')
    }
    const cap = cost > this.limits.smallBytes ? this.limits.largeBytes : this.limits.totalBytes
    cost = Math.min(cost, cap) // refused earlier if larger; never more than the gate can hold
    if (!this.#fits(cost)) {
      if (this.#waiting.length >= this.limits.maxWaiting) throw busy()
      this.#users.add(userId)
      try {
        await this.#wait(cost, signal)
      } catch (error) {
        this.#users.delete(userId)
        throw error
      }
    } else {
      this.#users.add(userId)
      this.#take(cost)
    }
    try {
      return await work()
    } finally {
      this.#users.delete(userId)
      this.#release(cost)
    }
  }

  #fits (cost: number): boolean {
    if (this.#used + cost > this.limits.totalBytes) return false
    return cost <= this.limits.smallBytes || this.#largeUsed + cost <= this.limits.largeBytes
  }

  #take (cost: number): void {
    this.#used += cost
    if (cost > this.limits.smallBytes) this.#largeUsed += cost
    this.#running++
  }

  #release (cost: number): void {
    this.#used -= cost
    if (cost > this.limits.smallBytes) this.#largeUsed -= cost
    this.#running--
    // In order, but one that fits may pass one that does not yet (a small image past a large one).
    for (let i = 0; i < this.#waiting.length;) {
      const waiter = this.#waiting[i]!
      if (this.#fits(waiter.cost)) {
        this.#waiting.splice(i, 1)
        this.#take(waiter.cost) // taken before it runs, so nobody slips in between
        waiter.start()
      } else {
        i++
      }
    }
  }

  #wait (cost: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = (error: Error): void => {
        const i = this.#waiting.indexOf(waiter)
        if (i === -1) return // started already
        this.#waiting.splice(i, 1)
        done()
        reject(error)
      }
      const onAbort = (): void => leave(new Abandoned())
      const timer = setTimeout(() => leave(busy()), this.limits.maxWaitMs)
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = { cost, start: () => { done(); resolve() } }
      signal.addEventListener('abort', onAbort)
      this.#waiting.push(waiter)
    })
  }
}

const busy = (): AppError => new AppError('unavailable', 'The server is busy processing other images; try again in a few seconds.',
  undefined, { 'Retry-After': RETRY_SECONDS })
