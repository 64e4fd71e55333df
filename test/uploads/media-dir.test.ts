// The media folder removed, replaced or read-only while the server runs: uploads answer 503
// media_unavailable (not 500), the folder is made again when it can be, and /api/health says so.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { makePdf, makePng, upload } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

const health = async () => {
  const res = await t.app.inject({ method: 'GET', url: '/api/health' })
  return { status: res.statusCode, body: res.json<{ status: string, database: string, media: string }>() }
}

describe('the media folder while running', () => {
  it('removed: health says "missing" (still 200), and the next upload makes it again (0700) and succeeds', async () => {
    expect((await health()).body.media).toBe('ok')
    rmSync(t.config.mediaDir, { recursive: true, force: true })
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok', media: 'missing' } })

    const res = await upload(t.app, token, { bytes: await makePng(40, 30), filename: 'back.png' })
    expect(res.statusCode, res.body).toBe(201)
    expect(statSync(t.config.mediaDir).mode & 0o777).toBe(0o700)
    expect((await health()).body.media).toBe('ok')
  })

  it('replaced by a file: uploads answer 503 media_unavailable with Retry-After, health says so; fixed, uploads work again', async () => {
    rmSync(t.config.mediaDir, { recursive: true, force: true })
    writeFileSync(t.config.mediaDir, 'not a folder')
    try {
      for (const file of [{ bytes: makePdf(), filename: 'a.pdf' }, { bytes: await makePng(40, 30), filename: 'b.png' }]) {
        const res = await upload(t.app, token, file)
        expect(res.statusCode, res.body).toBe(503)
        expect(res.json().error.code).toBe('media_unavailable')
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      }
      expect(await health()).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok', media: 'not_a_directory' } })
    } finally {
      rmSync(t.config.mediaDir, { force: true })
    }
    mkdirSync(t.config.mediaDir)
    expect((await upload(t.app, token, { bytes: makePdf(), filename: 'c.pdf' })).statusCode).toBe(201)
  })

  // root writes into a 0500 folder anyway, so as root (CI) the folder is made read-only for real:
  // bind-mounted onto itself, then remounted read-only.
  it('read-only: 503 media_unavailable, health "read_only"', async () => {
    const dir = t.config.mediaDir
    const root = process.getuid?.() === 0
    const readOnly = (on: boolean): void => {
      if (!root) return chmodSync(dir, on ? 0o500 : 0o700)
      if (on) execFileSync('sh', ['-c', 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"', 'sh', dir])
      else execFileSync('umount', [dir])
    }
    readOnly(true)
    try {
      const res = await upload(t.app, token, { bytes: makePdf(), filename: 'ro.pdf' })
      expect(res.statusCode, res.body).toBe(503)
      expect(res.json().error.code).toBe('media_unavailable')
      expect((await health()).body.media).toBe('read_only')
    } finally {
      readOnly(false)
    }
    expect(existsSync(t.config.mediaDir)).toBe(true)
  })
})
