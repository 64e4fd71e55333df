// The checks on a WebSocket upgrade request, before any socket exists: where the token is, and
// whether the page that opens the socket (its Origin) may.

/** The token from `?token=`, or from the subprotocol pair `Sec-WebSocket-Protocol: bearer, <token>`. */
export function upgradeToken (query: unknown, protocolHeader: string | string[] | undefined): string | null {
  const fromQuery = (query as Record<string, unknown> | null)?.token
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery
  const header = Array.isArray(protocolHeader) ? protocolHeader.join(',') : protocolHeader
  if (header === undefined) return null
  const offered = header.split(',').map((p) => p.trim())
  const token = offered[offered.indexOf('bearer') + 1]
  return offered.includes('bearer') && token !== undefined && token !== '' ? token : null
}

/** `scheme://host[:port]` as browsers send it in Origin (default port dropped, lower case), or null. */
export function normalizeOrigin (value: string): string | null {
  try {
    const { origin } = new URL(value)
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}

/**
 * The contract's rule: no Origin (a non-browser client) is allowed, since the token is what
 * authenticates; the server's own origin (same scheme and Host as the request, so also a LAN
 * address) is allowed; otherwise the origin must be in CORS_ALLOW_ORIGINS (config refuses `*`).
 */
export function originChecker (allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin).filter((o) => o !== null))
  return (origin: string | undefined, protocol: string, host: string | undefined): boolean => {
    if (origin === undefined) return true
    const given = normalizeOrigin(origin)
    if (given === null) return false
    if (allowed.has(given)) return true
    return host !== undefined && given === normalizeOrigin(`${protocol}://${host}`)
  }
}
