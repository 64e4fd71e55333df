import type { Db } from './database.js'

/** Revoked JWT ids, kept until the token would have expired anyway. */
export function createTokensRepo (db: Db) {
  const revoke = db.prepare<[string, number]>('INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)')
  const isRevoked = db.prepare<[string], number>('SELECT 1 FROM revoked_tokens WHERE jti = ?').pluck()
  const purge = db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at < ?')

  return {
    revoke (jti: string, expiresAtSeconds: number): void {
      revoke.run(jti, expiresAtSeconds)
    },
    isRevoked: (jti: string): boolean => isRevoked.get(jti) !== undefined,
    purgeExpired (nowSeconds = Math.floor(Date.now() / 1000)): number {
      return purge.run(nowSeconds).changes
    }
  }
}
