// The throttle on its own, with a fake clock: growth, cap, decay, reset, and the address budget.
import { describe, expect, it } from 'vitest'
import { createLoginThrottle } from '../../src/security/login-throttle.js'

function setup (options = {}) {
  let t = 1_000_000
  const throttle = createLoginThrottle({ now: () => t, ...options })
  return { throttle, advance: (ms: number) => { t += ms }, fail: (user = 'alice', ip = '10.0.0.1') => throttle.attempt(user, ip) }
}

describe('login throttle', () => {
  it('lets 5 failures through, then waits 1, 2, 4 … s after each further failure', () => {
    const { throttle, advance, fail } = setup()
    for (let i = 0; i < 5; i++) expect(fail().allowed).toBe(true)
    const blocked = fail()
    expect(blocked).toMatchObject({ allowed: false, scope: 'username', retryAfterMs: 1000 })
    for (const wait of [1000, 2000, 4000, 8000]) {
      expect(throttle.waitMs('alice', '10.0.0.1')).toBe(wait)
      advance(wait - 1)
      expect(fail().allowed).toBe(false) // refused attempts do not count, and do not extend the wait
      advance(1)
      expect(fail().allowed).toBe(true)
    }
  })

  it('caps the wait at 15 minutes however many failures', () => {
    const { throttle, advance, fail } = setup({ decayMs: 1e12 })
    for (let i = 0; i < 40; i++) {
      advance(throttle.waitMs('alice', '10.0.0.1'))
      expect(fail().allowed).toBe(true)
    }
    expect(throttle.waitMs('alice', '10.0.0.1')).toBe(15 * 60_000)
  })

  it('forgets failures over time, so a real user is never locked out for good', () => {
    const { throttle, advance, fail } = setup()
    for (let i = 0; i < 12; i++) { advance(throttle.waitMs('alice', '10.0.0.1')); fail() }
    expect(throttle.waitMs('alice', '10.0.0.1')).toBeGreaterThan(60_000)
    advance(8 * 10 * 60_000) // 8 failures forgiven: 4 left, under the free 5
    expect(throttle.waitMs('alice', '10.0.0.1')).toBe(0)
  })

  it('a success resets the username; refused attempts never reach the password check', () => {
    const { throttle, advance, fail } = setup()
    for (let i = 0; i < 5; i++) fail()
    advance(1000)
    const ok = fail()
    expect(ok.allowed).toBe(true)
    if (ok.allowed) ok.succeeded()
    expect(throttle.waitMs('alice', '10.0.0.1')).toBe(0)
    for (let i = 0; i < 5; i++) expect(fail().allowed).toBe(true)
  })

  it('counts an attempt when it starts, so a parallel burst cannot all get through', () => {
    const { fail } = setup()
    const burst = Array.from({ length: 50 }, () => fail()) // none settled yet
    expect(burst.filter((a) => a.allowed)).toHaveLength(5)
  })

  it('is keyed on the username without regard to case, across addresses', () => {
    const { fail } = setup()
    for (let i = 0; i < 5; i++) fail('Alice', `10.0.0.${i}`)
    expect(fail('ALICE', '192.168.1.9')).toMatchObject({ allowed: false, scope: 'username' })
    expect(fail('bob', '192.168.1.9').allowed).toBe(true)
  })

  it('gives an address a larger budget across usernames (password spraying)', () => {
    const { fail } = setup()
    for (let i = 0; i < 30; i++) expect(fail(`user${i}`, '10.9.9.9').allowed).toBe(true)
    expect(fail('someone-new', '10.9.9.9')).toMatchObject({ allowed: false, scope: 'address' })
    expect(fail('someone-new', '10.9.9.10').allowed).toBe(true)
  })

  it('a success does not reset the address (one good account cannot launder guesses)', () => {
    const { fail } = setup()
    for (let i = 0; i < 29; i++) fail(`user${i}`, '10.9.9.9')
    const ok = fail('mine', '10.9.9.9')
    if (ok.allowed) ok.succeeded() // refunds its own attempt only
    expect(fail('x1', '10.9.9.9').allowed).toBe(true)
    expect(fail('x2', '10.9.9.9').allowed).toBe(false)
  })

  it('keeps memory bounded', () => {
    const { throttle, fail } = setup({ maxEntries: 100 })
    for (let i = 0; i < 1000; i++) fail(`u${i}`, `a${i}`)
    // The newest entries are kept, the oldest dropped.
    for (let i = 0; i < 4; i++) fail('u999', 'a999')
    expect(throttle.waitMs('u999', 'z')).toBeGreaterThan(0)
  })
})
