// What some suites need from the machine (Chromium, Python's cryptography, a LAN address, …).
// On a developer's machine a missing one skips that suite with a note; under CI (CI=true), which
// installs them all, a missing one fails the suite instead, so that nothing is skipped silently.

/** True when `present`; otherwise logs why the suite is skipped, or throws under CI. */
export function available (what: string, present: boolean): boolean {
  if (present) return true
  if (process.env.CI === 'true') throw new Error(`CI must provide ${what}, but it is missing: .ci/run should install it`)
  console.log(`${what} is missing here: skipping the tests that need it (CI never skips them)`)
  return false
}
