// A token bucket per user: `perSecond` sustained, bursts of `burst`. Shared by the REST route and
// the WebSocket hub, so a user cannot double their rate by using both.

export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the milliseconds until one is free. */
  take: (key: number) => number
  /** Tokens per second and bucket size (both 0: no limit), for clients that pace themselves. */
  readonly perSecond: number
  readonly burst: number
}

interface Bucket { tokens: number, at: number }

export function createRateLimiter ({ perSecond, burst = perSecond * 3, now = () => performance.now() }:
{ perSecond: number, burst?: number, now?: () => number }): RateLimiter {
  if (perSecond <= 0) return { take: () => 0, perSecond: 0, burst: 0 } // 0 = no limit
  const buckets = new Map<number, Bucket>()
  const msPerToken = 1000 / perSecond
  let takes = 0

  return {
    perSecond,
    burst,
    take (key: number): number {
      const t = now()
      if (++takes % 10_000 === 0) {
        // Forget buckets that have refilled: they would behave exactly like new ones.
        for (const [k, b] of buckets) if ((t - b.at) / msPerToken + b.tokens >= burst) buckets.delete(k)
      }
      let bucket = buckets.get(key)
      if (bucket === undefined) {
        bucket = { tokens: burst, at: t }
        buckets.set(key, bucket)
      }
      bucket.tokens = Math.min(burst, bucket.tokens + (t - bucket.at) / msPerToken)
      bucket.at = t
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.ceil((1 - bucket.tokens) * msPerToken)
    }
  }
}
