// The limits that must hold across nodes, kept in Redis: the per-user message rate (a token bucket)
// and the login throttle (the rules of security/login-throttle.ts), each one Lua script so that
// nodes racing on the same key stay exact. Redis's clock (TIME), not each node's, keeps the time.
// When Redis does not answer: the message rate falls back to this process's own bucket, and logins
// are refused (503) until it answers again: a throttle that failed open would let guessing through.
import type { Redis } from 'ioredis'
import type { RateLimiter } from '../messages/rate-limiter.js'
import { refusal, type Attempt } from '../security/login-throttle.js'
import type { RedisLink } from './redis.js'

/** A RateLimiter whose answer may take a round trip. */
export type SendLimiter = Omit<RateLimiter, 'take'> & { take: (key: number) => number | Promise<number> }

export type LoginAttempt = Attempt | { allowed: false, retryAfterMs: number, scope: 'unavailable' }
/** What the login route asks: the in-memory throttle (one node) or the shared one. */
export interface LoginGate {
  attempt: (username: string, address: string) => LoginAttempt | Promise<LoginAttempt>
}

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

const TOKEN_BUCKET = `${NOW_MS}
local perMs = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = burst
if v[1] then tokens = math.min(burst, tonumber(v[1]) + (now - tonumber(v[2])) * perMs) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / perMs) end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
return wait`

// KEYS: username key, address key. ARGV: free per username, free per address, max delay, decay, op.
const LOGIN_THROTTLE = `${NOW_MS}
local maxDelay = tonumber(ARGV[3])
local decay = tonumber(ARGV[4])
local function read (key)
  local v = redis.call('HMGET', key, 's', 'at')
  if not v[1] then return 0, now end
  local s = tonumber(v[1]) - (now - tonumber(v[2])) / decay
  if s < 0 then s = 0 end
  return s, tonumber(v[2])
end
local function waitMs (key, free)
  local s, at = read(key)
  local n = math.ceil(s - 1e-9)
  if n < free then return 0 end
  local delay = math.min(maxDelay, 1000 * 2 ^ math.min(n - free, 40))
  return math.max(0, at + delay - now)
end
local function add (key, amount)
  local s, at = read(key)
  s = s + amount
  if s <= 0 then
    redis.call('DEL', key)
    return
  end
  if amount > 0 then at = now end
  redis.call('HSET', key, 's', string.format('%.6f', s), 'at', at)
  redis.call('PEXPIRE', key, math.ceil(s * decay + maxDelay))
end
if ARGV[5] == 'succeeded' then
  redis.call('DEL', KEYS[1])
  add(KEYS[2], -1)
  return {0, 0}
end
local byUser = waitMs(KEYS[1], tonumber(ARGV[1]))
local byAddress = waitMs(KEYS[2], tonumber(ARGV[2]))
if byUser > 0 or byAddress > 0 then return {math.ceil(byUser), math.ceil(byAddress)} end
add(KEYS[1], 1)
add(KEYS[2], 1)
return {0, 0}`

type Scripted = Redis & {
  chatTokenBucket: (key: string, perSecond: number, burst: number) => Promise<number>
  chatLoginThrottle: (userKey: string, addressKey: string, freeUser: number, freeAddress: number, maxDelayMs: number, decayMs: number, op: string) => Promise<[number, number]>
}

function scripted (redis: Redis): Scripted {
  const r = redis as Scripted
  if (typeof r.chatTokenBucket !== 'function') {
    redis.defineCommand('chatTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET })
    redis.defineCommand('chatLoginThrottle', { numberOfKeys: 2, lua: LOGIN_THROTTLE })
  }
  return r
}

/**
 * A per-user limit across every node (MESSAGES_PER_SECOND, or CHANGES_PER_SECOND with `bucket`
 * 'changes': each its own bucket per user); this process's own bucket while Redis is away.
 */
export function sharedSendLimiter (link: RedisLink, local: RateLimiter, bucket: 'messages' | 'changes' = 'messages'): SendLimiter {
  if (local.perSecond <= 0) return local
  const redis = scripted(link.client)
  return {
    perSecond: local.perSecond,
    burst: local.burst,
    async take (userId) {
      try {
        return await redis.chatTokenBucket(`${link.prefix}rate:${bucket}:${userId}`, local.perSecond, local.burst)
      } catch {
        return local.take(userId)
      }
    }
  }
}

/** The same rules as createLoginThrottle's defaults. */
const THROTTLE = { freePerUsername: 5, freePerAddress: 30, maxDelayMs: 15 * 60_000, decayMs: 10 * 60_000 }
/** What a refused login waits while Redis does not answer. */
const UNAVAILABLE_RETRY_MS = 5000

/** The login throttle across every node; fails closed. */
export function sharedLoginThrottle (link: RedisLink, onError: (error: unknown) => void): LoginGate {
  const redis = scripted(link.client)
  // Usernames are unique without regard to case, so their throttle is too.
  const keys = (username: string, address: string): [string, string] =>
    [`${link.prefix}login:user:${username.normalize('NFC').toLowerCase()}`, `${link.prefix}login:address:${address}`]
  const run = async (username: string, address: string, op: string): Promise<[number, number]> =>
    redis.chatLoginThrottle(...keys(username, address), THROTTLE.freePerUsername, THROTTLE.freePerAddress, THROTTLE.maxDelayMs, THROTTLE.decayMs, op)
  return {
    async attempt (username, address) {
      let waits: [number, number]
      try {
        waits = await run(username, address, 'attempt')
      } catch (error) {
        onError(error)
        return { allowed: false, retryAfterMs: UNAVAILABLE_RETRY_MS, scope: 'unavailable' }
      }
      const [byUser, byAddress] = waits
      const refused = refusal(byUser, byAddress)
      if (refused !== null) return refused
      let settled = false
      return {
        allowed: true,
        succeeded () {
          if (settled) return
          settled = true
          run(username, address, 'succeeded').catch(onError)
        }
      }
    }
  }
}
