// Keeping within the server's limits, which it states in the `ready` frame: a token bucket for
// sends (the same rule as the server's, so a resent outbox is not refused from message 31 on),
// and typing timers derived from the server's.

/** @typedef {{ messagesPerSecond: number, messageBurst: number, typingTtlMs: number, typingThrottleMs: number }} Limits */

/** The server's defaults, until its `ready` frame says otherwise (MESSAGES_PER_SECOND=10, bursts of 3×). */
/** @type {Limits} */
export const DEFAULT_LIMITS = { messagesPerSecond: 10, messageBurst: 30, typingTtlMs: 5000, typingThrottleMs: 2000 }

/**
 * Sends are paced a tenth under the server's limits, rate and burst: the server measures arrivals,
 * and jitter on the way can bunch sends closer together than they left.
 */
const RATE_MARGIN = 0.9

/**
 * A token bucket: `messagesPerSecond` sustained, bursts of `messageBurst`; 0 means no limit.
 * @param {Limits} limits
 * @param {() => number} [now]
 */
export function createPacer (limits, now = () => Date.now()) {
  let perSecond = limits.messagesPerSecond * RATE_MARGIN
  let burst = Math.max(1, Math.floor(limits.messageBurst * RATE_MARGIN))
  let tokens = burst
  let at = now()

  function refill () {
    const t = now()
    tokens = Math.min(burst, tokens + ((t - at) * perSecond) / 1000)
    at = t
  }

  return {
    /** Takes one token: 0 when a message may go now, else the milliseconds until one may. */
    take () {
      if (perSecond <= 0) return 0
      refill()
      if (tokens >= 1) {
        tokens -= 1
        return 0
      }
      return Math.ceil(((1 - tokens) * 1000) / perSecond)
    },
    /** The server refused a send anyway (another tab or device used the same allowance): start from empty. */
    drain () {
      refill()
      tokens = 0
    },
    /** New limits from a `ready` frame; what is already spent stays spent. @param {Limits} next */
    configure (next) {
      refill()
      perSecond = next.messagesPerSecond * RATE_MARGIN
      burst = Math.max(1, Math.floor(next.messageBurst * RATE_MARGIN))
      tokens = Math.min(tokens, burst)
    }
  }
}

/**
 * While someone types, `typing` goes out again every `repeatMs`: above the server's throttle, so
 * each one is relayed, and well inside its expiry. Others show it until `isTyping: false`, or
 * `shownMs` without news if that frame never comes (the server ends typing after its TTL and
 * sweeps once a second).
 * @param {Limits} limits
 */
export function typingTimers (limits) {
  const repeatMs = Math.max(limits.typingThrottleMs + 500, Math.round(limits.typingTtlMs / 2))
  return { repeatMs, shownMs: limits.typingTtlMs + 1000 }
}

/** The limits in a `ready` frame, or the defaults for what is missing or malformed. @param {unknown} value @returns {Limits} */
export function readLimits (value) {
  const given = /** @type {Record<string, unknown>} */ (value && typeof value === 'object' ? value : {})
  /** @param {keyof Limits} key */
  const pick = (key) => {
    const n = given[key]
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : DEFAULT_LIMITS[key]
  }
  return { messagesPerSecond: pick('messagesPerSecond'), messageBurst: pick('messageBurst'), typingTtlMs: pick('typingTtlMs'), typingThrottleMs: pick('typingThrottleMs') }
}
