// A node that cannot reach Redis at start says so in one line and exits, instead of serving alone.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Fernet } from '../../src/crypto/fernet.js'
import { tempDir } from '../helper.js'
import { freePort, runServerToExit } from '../process-helper.js'

describe('start-up with REDIS_URL', () => {
  it('exits 1 with one line when Redis cannot be reached, never printing its password', async () => {
    const port = await freePort() // nothing listens there
    const { code, stderr } = await runServerToExit(tempDir(), {
      SECRET_KEY: randomBytes(48).toString('base64url'),
      ENCRYPTION_KEY: Fernet.generateKey(),
      REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}`
    })
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(new RegExp(`^Cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*\\(REDIS_URL\\).*unset REDIS_URL to run a single node`))
    expect(stderr).not.toContain('hunter2')
  })

  it('exits 1 when REDIS_URL is set but the keys are not', async () => {
    const { code, stderr } = await runServerToExit(tempDir(), { REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(code).toBe(1)
    expect(stderr).toMatch(/^Invalid setting SECRET_KEY: expected a value set in the environment \(or \.env\) when REDIS_URL is set/)
  })
})
