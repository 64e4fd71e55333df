import { describe, expect, it } from 'vitest'
import { createRateLimiter } from '../../src/messages/rate-limiter.js'

describe('rate limiter', () => {
  it('allows a burst of 3× the rate, then refills at the rate', () => {
    let t = 0
    const limiter = createRateLimiter({ perSecond: 10, now: () => t })
    for (let i = 0; i < 30; i++) expect(limiter.take(1)).toBe(0)
    expect(limiter.take(1)).toBe(100) // one token every 100 ms
    t += 100
    expect(limiter.take(1)).toBe(0)
    expect(limiter.take(1)).toBeGreaterThan(0)
  })

  it('keeps users apart', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: () => 0 })
    expect(limiter.take(1)).toBe(0)
    expect(limiter.take(1)).toBeGreaterThan(0)
    expect(limiter.take(2)).toBe(0)
  })

  it('0 means no limit', () => {
    const limiter = createRateLimiter({ perSecond: 0 })
    for (let i = 0; i < 1000; i++) expect(limiter.take(1)).toBe(0)
  })
})
