// MAX_SOCKETS_PER_USER across nodes: each node writes how many sockets each user has open on it
// (`sockets:user:<id>`, field = node), and marks itself alive (`alive:<node>`, expiring unless
// refreshed). A count is the sum over the live nodes, so a dead node's sockets stop counting
// within `ttlMs`. Checked before the upgrade; two upgrades on two nodes in the same instant may
// both pass (the cap is then exceeded by one socket until one closes).
import type { Redis } from 'ioredis'
import type { RedisLink } from './redis.js'

const COUNT = `local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[1] .. fields[i]) == 1 then total = total + tonumber(fields[i + 1])
  else redis.call('HDEL', KEYS[1], fields[i]) end
end
return total`

type Scripted = Redis & { chatSocketCount: (key: string, alivePrefix: string) => Promise<number> }

export class NodeSockets {
  readonly #redis: Scripted
  readonly #link: RedisLink
  readonly #ttlMs: number
  readonly #alive: string
  #timer: ReturnType<typeof setInterval> | null = null

  constructor (link: RedisLink, { ttlMs = 60_000 } = {}) {
    this.#link = link
    this.#ttlMs = ttlMs
    this.#alive = `${link.prefix}alive:${link.node}`
    this.#redis = link.client as Scripted
    if (typeof this.#redis.chatSocketCount !== 'function') link.client.defineCommand('chatSocketCount', { numberOfKeys: 1, lua: COUNT })
  }

  async start (): Promise<void> {
    await this.#redis.set(this.#alive, '1', 'PX', this.#ttlMs)
    this.#timer = setInterval(() => {
      this.#redis.set(this.#alive, '1', 'PX', this.#ttlMs).catch(() => {})
    }, Math.max(100, Math.floor(this.#ttlMs / 3))).unref()
  }

  /** The user now has `count` sockets on this node. */
  changed (userId: number, count: number): void {
    const key = this.#key(userId)
    const write = count > 0
      ? this.#redis.multi().hset(key, this.#link.node, count).pexpire(key, 24 * 3600_000).exec()
      : this.#redis.hdel(key, this.#link.node)
    write.catch(() => {})
  }

  /** Sockets the user has open on every live node; throws when Redis does not answer. */
  async count (userId: number): Promise<number> {
    return this.#redis.chatSocketCount(this.#key(userId), `${this.#link.prefix}alive:`)
  }

  async close (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    await this.#redis.del(this.#alive).catch(() => {})
  }

  #key (userId: number): string {
    return `${this.#link.prefix}sockets:user:${userId}`
  }
}
