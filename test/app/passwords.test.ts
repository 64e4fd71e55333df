import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, describe, expect, it } from 'vitest'
import { createPasswordHasher } from '../../src/auth/passwords.js'

describe('password hashing off the main thread', () => {
  const hasher = createPasswordHasher({ cost: 10 })
  afterAll(() => hasher.close())

  it('hashes and verifies', async () => {
    const hash = await hasher.hash('correct horse')
    expect(hash).toMatch(/^\$2[aby]\$10\$/)
    expect(await hasher.verify('correct horse', hash)).toBe(true)
    expect(await hasher.verify('wrong horse', hash)).toBe(false)
    expect(await hasher.verifyNobody('anything')).toBe(false)
  })

  it('a burst of hashes does not stall the event loop', async () => {
    // bcryptjs at cost 10 takes ~50-100 ms a hash: on the main thread, 8 would stall it for 400+ ms.
    const delay = monitorEventLoopDelay({ resolution: 5 })
    delay.enable()
    await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`)))
    delay.disable()
    expect(delay.max / 1e6).toBeLessThan(200)
  })

  it('turns a burst away once too many hashes wait, instead of queueing it for minutes', async () => {
    const small = createPasswordHasher({ cost: 8, threads: 1, maxWaiting: 2 })
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => small.hash(`burst ${i}`)))
    await small.close()
    const refused = results.filter((r) => r.status === 'rejected')
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(3) // one running, two waiting
    expect(refused.length).toBeGreaterThan(0)
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ statusCode: 503, code: 'unavailable' })
  })

  it('a refusal while the queue is full does not stick to unknown users', async () => {
    const small = createPasswordHasher({ cost: 6, threads: 1, maxWaiting: 1 })
    const busy = [small.hash('one'), small.hash('two')] // one running, one waiting: full
    await expect(small.verifyNobody('guess')).rejects.toMatchObject({ statusCode: 503 })
    await Promise.all(busy)
    await expect(small.verifyNobody('guess')).resolves.toBe(false)
    await small.close()
  })

  it('an unknown user costs a comparison like a known one', async () => {
    const hash = await hasher.hash('the real one')
    const time = async (fn: () => Promise<unknown>) => { const t0 = performance.now(); await fn(); return performance.now() - t0 }
    const known: number[] = []; const unknown: number[] = []
    for (let i = 0; i < 5; i++) {
      known.push(await time(() => hasher.verify('a wrong guess', hash)))
      unknown.push(await time(() => hasher.verifyNobody('a wrong guess')))
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!
    const ratio = median(unknown) / median(known)
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
  })
})
