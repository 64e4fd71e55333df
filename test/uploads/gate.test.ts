// The image gate on its own: real ImageGate instances, with work whose end the test decides.
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { Abandoned, ImageGate } from '../../src/uploads/gate.js'

const MB = 1024 * 1024
const limits = { totalBytes: 100 * MB, largeBytes: 80 * MB, smallBytes: 10 * MB, maxWaiting: 2, maxWaitMs: 10_000 }

/** Work that runs until release() is called; `started` says whether the gate let it start. */
function job () {
  let release = (): void => {}
  const state = { started: false }
  const done = new Promise<void>((resolve) => { release = resolve })
  return { state, release, work: async () => { state.started = true; await done; return 'ok' } }
}

const never = new AbortController().signal
const flush = () => new Promise((resolve) => setImmediate(resolve))

async function refusal (promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(AppError)
  return error as AppError
}

describe('ImageGate', () => {
  it('a user with an image in the gate gets 429 with Retry-After for the next one', async () => {
    const gate = new ImageGate(limits)
    const a = job()
    const first = gate.run(1, 50 * MB, never, a.work)
    const error = await refusal(gate.run(1, 1 * MB, never, async () => 'second'))
    expect(error).toMatchObject({ statusCode: 429, code: 'rate_limited' })
    expect(Number(error.headers?.['Retry-After'])).toBeGreaterThan(0)
    a.release()
    await first
    expect(await gate.run(1, 1 * MB, never, async () => 'later')).toBe('later') // free again
  })

  it('large images wait for room; a small one passes them; a full queue answers 503 with Retry-After', async () => {
    const gate = new ImageGate(limits)
    const big = job()
    const running = gate.run(1, 70 * MB, never, big.work)
    const next = job()
    const waiting = gate.run(2, 70 * MB, never, next.work)
    await flush()
    expect(next.state.started).toBe(false)
    // A small image is not held up behind the large ones.
    expect(await gate.run(3, 5 * MB, never, async () => 'small')).toBe('small')

    const third = job()
    const alsoWaiting = gate.run(4, 60 * MB, never, third.work)
    expect(gate.stats()).toMatchObject({ running: 1, waiting: 2 })
    const error = await refusal(gate.run(5, 60 * MB, never, async () => 'no room'))
    expect(error).toMatchObject({ statusCode: 503, code: 'unavailable' })
    expect(Number(error.headers?.['Retry-After'])).toBeGreaterThan(0)

    big.release()
    await running
    await flush()
    expect(next.state.started).toBe(true)
    next.release()
    third.release()
    await Promise.all([waiting, alsoWaiting])
    expect(gate.stats()).toEqual({ running: 0, waiting: 0, usedBytes: 0 })
  })

  it('a waiter whose client went away leaves the queue at once and frees its user', async () => {
    const gate = new ImageGate(limits)
    const big = job()
    const running = gate.run(1, 70 * MB, never, big.work)
    const gone = new AbortController()
    const cancelled = job()
    const waiting = gate.run(2, 70 * MB, gone.signal, cancelled.work)
    expect(gate.stats().waiting).toBe(1)
    gone.abort()
    await expect(waiting).rejects.toBeInstanceOf(Abandoned)
    expect(gate.stats()).toMatchObject({ running: 1, waiting: 0 })
    // The same user may send again at once (not 429), and the cancelled work never ran.
    const again = job()
    const retry = gate.run(2, 70 * MB, never, again.work)
    big.release()
    await running
    await flush()
    again.release()
    expect(await retry).toBe('ok')
    expect(cancelled.state.started).toBe(false)
    expect(gate.stats()).toEqual({ running: 0, waiting: 0, usedBytes: 0 })
  })

  it('never waits without end: past maxWaitMs the waiter gets 503', async () => {
    const gate = new ImageGate({ ...limits, maxWaitMs: 50 })
    const big = job()
    const running = gate.run(1, 70 * MB, never, big.work)
    const error = await refusal(gate.run(2, 70 * MB, never, async () => 'late'))
    expect(error).toMatchObject({ statusCode: 503, code: 'unavailable' })
    expect(gate.stats()).toMatchObject({ running: 1, waiting: 0 })
    big.release()
    await running
  })
})
