// The CSP as a browser applies it: /docs (Swagger UI) and the chat page render with no violation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { hasChromium, launchBrowser, startServer, type Server } from '../e2e/harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('CSP in Chromium', () => {
  let server: Server
  let browser: Browser
  beforeAll(async () => { [server, browser] = await Promise.all([startServer(), launchBrowser()]) })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it.each([
    ['/docs', '.swagger-ui .opblock'],
    ['/', 'body']
  ])('%s renders with no CSP violation or console error', async (path, selector) => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()) })
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(server.url + path)
    await page.locator(selector).first().waitFor()
    await page.waitForTimeout(300)
    expect(problems).toEqual([])
    await page.close()
  })

  it('/docs offers a file input when trying out an upload, and the form for logging in', async () => {
    const page = await browser.newPage()
    await page.goto(server.url + '/docs')
    await page.locator('#operations-uploads-postRoomsByRoomIdUploads').click()
    await page.locator('#operations-uploads-postRoomsByRoomIdUploads .try-out__btn').click()
    await page.locator('#operations-uploads-postRoomsByRoomIdUploads input[type=file]').waitFor()
    await page.locator('#operations-auth-postAuthLogin').click()
    const types = await page.locator('#operations-auth-postAuthLogin .opblock-section-request-body select option').allTextContents()
    expect(types).toEqual(['application/json', 'application/x-www-form-urlencoded'])
    await page.close()
  })
})
