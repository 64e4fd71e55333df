// Security headers (helmet + CSP), /docs under that CSP, /media keeping its own sandbox CSP,
// body limits and server timeouts, and the operator's health view.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { bearer, buildTestApp, registerUser, type TestApp } from '../helper.js'
import { multipart, TINY_PDF } from './support.js'

const PAGE_CSP = "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob:;media-src 'self' blob:;" +
  "connect-src 'self' ws: wss:;object-src 'none';frame-ancestors 'none';base-uri 'self';form-action 'self'"

let t: TestApp
let token: string
beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => { await t.close() })

describe('security headers', () => {
  it.each(['/', '/index.html', '/api/health', '/api/nope'])('%s: strict CSP, nosniff, no framing, no HSTS, no upgrade-insecure-requests', async (url) => {
    const res = await t.app.inject({ url })
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP)
    expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/)
    expect(res.headers['strict-transport-security']).toBeUndefined()
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-frame-options']).toBe('DENY')
    expect(res.headers['x-powered-by']).toBeUndefined()
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined() // ignored on LAN http, and logged as an error there
  })

  it('the page itself loads nothing from elsewhere and has no inline script or style', async () => {
    const html = (await t.app.inject({ url: '/' })).body
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i) // every <script> has a src
    expect(html).not.toMatch(/\sstyle=|<style/i)
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i)
    expect(html).not.toMatch(/\son[a-z]+=/i)
  })

  it('/docs loads under the same CSP: its HTML refers only to its own files, and they load', async () => {
    const res = await t.app.inject({ url: '/docs' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    const refs = [...res.body.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThanOrEqual(4)
    expect(res.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i)
    // The one relaxation: Swagger UI's bundle injects a <style> element (checked in Chromium).
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"))
    expect(res.headers['x-frame-options']).toBe('DENY')
    for (const ref of refs) {
      expect(ref).toMatch(/^\/docs\/static\//) // same origin: allowed by 'self'
      const asset = await t.app.inject({ url: ref })
      expect(asset.statusCode, ref).toBe(200)
    }
    const spec = await t.app.inject({ url: '/docs/json' })
    expect(spec.statusCode).toBe(200)
  })

  it('/media keeps its own sandbox CSP (the route overrides helmet), errors included', async () => {
    const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'a.pdf', type: 'application/pdf' }])
    const up = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', headers: { ...bearer(token), ...form.headers }, payload: form.payload })
    expect(up.statusCode, up.body).toBe(201)
    const url = up.json().message.attachment.url as string
    for (const path of [url, '/media/0123456789abcdef0123456789abcdef.pdf']) {
      const res = await t.app.inject({ url: path })
      expect(res.headers['content-security-policy']).toMatch(/sandbox/)
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
    }
    expect((await t.app.inject({ url })).headers['content-disposition']).toMatch(/^attachment/)
  })

  it('a file dropped into MEDIA_DIR without a record is not served', async () => {
    writeFileSync(join(t.config.mediaDir, 'ffffffffffffffffffffffffffffffff.pdf'), TINY_PDF)
    expect((await t.app.inject({ url: '/media/ffffffffffffffffffffffffffffffff.pdf' })).statusCode).toBe(404)
  })
})

describe('limits', () => {
  it('the login form is capped at 4 KiB', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `username=alice&password=${'x'.repeat(5000)}`
    })
    expect(res.statusCode).toBe(413)
    expect(res.json().error.code).toBe('payload_too_large')
  })

  it.each([
    ['POST', '/api/rooms'],
    ['POST', '/api/rooms/1/messages'],
    ['POST', '/api/auth/register']
  ])('%s %s refuses JSON over 64 KiB with 413', async (method, url) => {
    const res = await t.app.inject({ method: method as 'POST', url, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify({ body: 'x'.repeat(70_000) }) })
    expect(res.statusCode).toBe(413)
    expect(res.json().error.code).toBe('payload_too_large')
  })

  it('the HTTP server has slow-loris timeouts set', () => {
    const server = t.app.server
    expect(server.requestTimeout).toBe(120_000) // whole request, body included
    expect(server.headersTimeout).toBe(30_000) // the request head
    expect(server.timeout).toBe(120_000) // idle socket (connectionTimeout)
    expect(server.keepAliveTimeout).toBe(10_000)
  })
})

describe('GET /api/health for the operator', () => {
  it('reports the database, disk space where uploads go, and uptime', async () => {
    const res = await t.app.inject({ url: '/api/health' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ status: 'ok', database: 'ok' })
    expect(body.disk.freeBytes).toBeGreaterThan(0)
    expect(body.disk.totalBytes).toBeGreaterThanOrEqual(body.disk.freeBytes)
    expect(Number.isInteger(body.uptimeSeconds)).toBe(true)
    expect(res.body).not.toContain(t.dir) // no paths
  })

  it('uptime counts whole seconds since the app started', async () => {
    const first = (await t.app.inject({ url: '/api/health' })).json().uptimeSeconds as number
    expect(first).toBeGreaterThanOrEqual(0)
    expect(first).toBeLessThan(600) // this app started during this test file
    // 90 s later (the clock moved, not the test):
    const now = performance.now()
    vi.spyOn(performance, 'now').mockReturnValue(now + 90_000)
    let later: number
    try {
      later = (await t.app.inject({ url: '/api/health' })).json().uptimeSeconds as number
    } finally {
      vi.restoreAllMocks()
    }
    expect(later - first).toBeGreaterThanOrEqual(89)
    expect(later - first).toBeLessThanOrEqual(91)
  })

  it('503 with the error shape when the database is unusable', async () => {
    const other = await buildTestApp()
    try {
      await other.app.storage.close()
      const res = await other.app.inject({ url: '/api/health' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } })
    } finally {
      await other.close()
    }
  })
})
