// DNS rebinding: a page on attacker.example whose name is re-pointed at 127.0.0.1 (or a LAN
// address) talks to this server as its own origin — its Origin equals its Host, so CORS and the
// socket's Origin check both let it in. The Host header still carries the attacker's name, so
// every request (API, static files, the /ws upgrade) must name a host this server is known by.
//
// Known hosts: `localhost`, `127.0.0.1` and `[::1]` always; the HOST address itself when it is a
// specific one; any IP literal when HOST listens on every address (0.0.0.0 or ::), since a
// rebinding page cannot send one; the hosts of CORS_ALLOW_ORIGINS (the public name behind a
// proxy); and ALLOWED_HOSTS. The port is not compared (unless an ALLOWED_HOSTS entry names one):
// the attacker controls only the name, and Docker's `-p 8080:8000` or port forwarding legitimately
// changes the port a browser sends. No Host header at all (HTTP/1.0) is refused.
import { isIPv4, isIPv6 } from 'node:net'

export interface HostPolicy {
  /** The listening address (HOST). */
  host: string
  corsOrigins: readonly string[]
  /** ALLOWED_HOSTS entries: `name`, `name:port`, `*.domain` or `.domain`. */
  allowedHosts: readonly string[]
}

interface Rule {
  /** Lower case, without brackets; for a wildcard the suffix, starting with a dot. */
  name: string
  wildcard: boolean
  /** null: any port (or none). */
  port: string | null
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1']
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]'])

/** `name[:port]` as a Host header or a setting gives it: lower case, brackets and a final dot removed; null when malformed. */
export function parseHost (value: string): { name: string, port: string | null } | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+))(?::(\d{1,5}))?$/i.exec(value)
  if (match === null) return null
  const [, ipv6, other, port] = match
  if (ipv6 !== undefined && !isIPv6(ipv6)) return null
  if (port !== undefined && Number(port) > 65535) return null
  const name = (ipv6 ?? other!).toLowerCase().replace(/\.$/, '')
  return name === '' ? null : { name, port: port ?? null }
}

/** An ALLOWED_HOSTS entry as a rule, or null when it is not a host name (the setting is then refused). */
export function parseAllowedHost (entry: string): Rule | null {
  const wildcard = /^\*?\./.test(entry)
  const parsed = parseHost(wildcard ? entry.replace(/^\*?\./, '') : entry)
  if (parsed === null) return null
  return { name: wildcard ? `.${parsed.name}` : parsed.name, wildcard, port: parsed.port }
}

/** The predicate the app-wide hook asks about each request's Host header. */
export function hostChecker ({ host, corsOrigins, allowedHosts }: HostPolicy): (header: string | undefined) => boolean {
  const anyIp = ANY_ADDRESS.has(host)
  const rules: Rule[] = LOOPBACK_NAMES.map((name) => ({ name, wildcard: false, port: null }))
  const listening = parseHost(host)
  if (!anyIp && listening !== null) rules.push({ name: listening.name, wildcard: false, port: null })
  for (const origin of corsOrigins) {
    try {
      const name = new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
      if (name !== '') rules.push({ name, wildcard: false, port: null })
    } catch {} // `*` and other non-URLs name no host
  }
  for (const entry of allowedHosts) {
    const rule = parseAllowedHost(entry)
    if (rule !== null) rules.push(rule)
  }

  return (header) => {
    if (header === undefined) return false
    const given = parseHost(header)
    if (given === null) return false
    if (anyIp && (isIPv4(given.name) || isIPv6(given.name))) return true
    return rules.some((rule) => (rule.port === null || rule.port === given.port) &&
      (rule.wildcard ? given.name.endsWith(rule.name) : given.name === rule.name))
  }
}
