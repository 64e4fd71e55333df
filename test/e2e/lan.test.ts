// The page opened by the machine's LAN address over plain http: not a secure context, so no
// crypto.randomUUID(); login and sending must still work (and the socket's Origin is accepted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { enter, hasChromium, lanAddress, launchBrowser, openPerson, startServer, type Server } from './harness.js'
import { available } from '../requirements.js'

const lan = lanAddress()

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium) || !available('a non-internal IPv4 address', lan !== undefined))('web client over a LAN address (not a secure context)', () => {
  let server: Server
  let browser: Browser

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer('0.0.0.0', lan), launchBrowser()])
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('registers, sends and gets the ack', async () => {
    const carol = await openPerson(browser, server.url, `carol${process.pid % 10000}`)
    await enter(carol)
    const { page } = carol
    await expect(page.evaluate('window.isSecureContext')).resolves.toBe(false)
    await expect(page.evaluate('typeof crypto.randomUUID')).resolves.toBe('undefined')
    await page.getByLabel('Message', { exact: true }).fill('hello from the LAN')
    await page.keyboard.press('Enter')
    await page.locator('li.msg:not(.pending) .msg-body', { hasText: 'hello from the LAN' }).waitFor()
    await expect(page.locator('#notify-status').innerText()).resolves.toMatch(/HTTPS or localhost/)
    expect(carol.errors).toEqual([])
    await carol.context.close()
  })
})
