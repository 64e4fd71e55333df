// The README's examples run as written: the systemd unit passes `systemd-analyze verify`, and the
// Node WebSocket client sends a message and exits once it is acknowledged.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, tempDir, type TestApp } from './helper.js'
import { ROOT } from './process-helper.js'
import { available } from './requirements.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The fenced block of `lang` that contains `marker`. */
function block (lang: string, marker: string): string {
  const found = [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!).find((text) => text.includes(marker))
  if (found === undefined) throw new Error(`no \`\`\`${lang} block with ${marker} in the README`)
  return found
}

const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0

describe('README examples', () => {
  it.runIf(available('systemd-analyze', hasSystemd))('the systemd unit passes systemd-analyze verify', () => {
    const dir = tempDir()
    const unit = join(dir, 'secure-chat.service')
    // The node binary must exist for verify; the README names /usr/bin/node.
    const node = execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim()
    writeFileSync(unit, block('ini', 'ExecStart=').replace('/usr/bin/node', node))
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr.split('\n').filter((line) => line.includes('secure-chat.service'))).toEqual([])
    for (const line of ['ExecStart=/usr/bin/node /opt/secure-chat/dist/server.js', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/secure-chat', 'WorkingDirectory=/var/lib/secure-chat', 'User=securechat']) {
      expect(block('ini', 'ExecStart=')).toContain(line)
    }
  })

  describe('the Node WebSocket client', () => {
    let test: TestApp
    let app: FastifyInstance
    let port: number
    beforeAll(async () => {
      test = await buildTestApp()
      app = test.app
      await app.listen({ port: 0, host: '127.0.0.1' })
      port = (app.server.address() as { port: number }).port
    })
    afterAll(async () => { await test.close() })

    it('runs as written (client.mjs, Node 20, ws) and its message is stored once', async () => {
      const reg = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'alice', password: 'correct horse battery' } })
      const { token } = reg.json<{ token: string }>()
      const dir = tempDir()
      mkdirSync(join(dir, 'node_modules'))
      symlinkSync(join(ROOT, 'node_modules', 'ws'), join(dir, 'node_modules', 'ws')) // `npm install ws`
      writeFileSync(join(dir, 'client.mjs'), block('js', 'client.mjs').replace('127.0.0.1:8000', `127.0.0.1:${port}`))
      for (let run = 0; run < 2; run++) {
        // Not spawnSync: the server answering it runs in this process.
        const result = await promisify(execFile)(process.execPath, ['client.mjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '', TOKEN: token }, encoding: 'utf8', timeout: 15_000 })
        const frames = result.stdout.trim().split('\n').map((line) => JSON.parse(line.replace(/^← /, '')) as { type: string })
        expect(frames.map((f) => f.type)).toEqual(['ready', 'joined', 'message', 'ack'])
      }
      // A fresh clientId each run: two runs, two messages.
      const history = await app.inject({ url: '/api/rooms/1/messages', headers: { authorization: `Bearer ${token}` } })
      expect(history.json<{ messages: Array<{ body: string }> }>().messages.map((m) => m.body)).toEqual(['hello 👋', 'hello 👋'])
    }, 40_000)
  })
})
