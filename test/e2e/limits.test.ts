// The web client in Chromium against a server with its default rate limit (10 messages a second,
// bursts of 30): 40 messages typed offline all arrive once after the reconnect, none refused; and
// a stored message the server cannot decrypt shows as such instead of breaking the room.
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { Fernet } from '../../src/crypto/fernet.js'
import { connected, enter, hasChromium, launchBrowser, openPerson, startServer, type Person, type Server } from './harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('web client: rate limit and unreadable messages', () => {
  let server: Server
  let browser: Browser
  let carol: Person

  async function history (): Promise<Array<{ id: number, body: string, author: { username: string } }>> {
    const raw = await carol.page.evaluate<string | null>('localStorage.getItem("secure-chat.session")')
    const { token } = JSON.parse(raw ?? '{}') as { token: string }
    const res = await fetch(`${server.url}/api/rooms/1/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } })
    return (await res.json() as { messages: Array<{ id: number, body: string, author: { username: string } }> }).messages
  }

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer('127.0.0.1', '127.0.0.1', { MESSAGES_PER_SECOND: '10' }), launchBrowser()])
    carol = await openPerson(browser, server.url, 'carol')
    await enter(carol)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })
  afterEach(() => {
    expect(carol.errors.splice(0), 'console/page errors').toEqual([])
  })

  it('sends 40 messages typed offline after the reconnect: each once, none refused', async () => {
    const { page } = carol
    await page.getByRole('button', { name: 'General', exact: true }).click()
    await carol.context.setOffline(true)
    await page.locator('#connection-banner:not([hidden])').waitFor()
    const box = page.getByLabel('Message', { exact: true })
    const bodies = Array.from({ length: 40 }, (_, i) => `queued offline ${i + 1}`)
    for (const body of bodies) {
      await box.fill(body)
      await box.press('Enter')
    }
    await expect(page.locator('li.msg.pending').count()).resolves.toBe(40)

    await carol.context.setOffline(false)
    await connected(page)
    await page.locator('li.msg:not(.pending) .msg-body', { hasText: /^queued offline 40$/ }).waitFor({ timeout: 15_000 })
    await expect(page.locator('li.msg.pending').count()).resolves.toBe(0)
    await expect(page.locator('li.msg.failed').count()).resolves.toBe(0)
    await expect(page.locator('#message-list .msg-body', { hasText: /^queued offline \d+$/ }).count()).resolves.toBe(40)
    const stored = (await history()).filter((m) => m.author.username === 'carol').map((m) => m.body)
    expect(stored).toEqual(bodies)
  })

  it('shows a message the server cannot decrypt as unreadable, and the rest of the room as usual', async () => {
    const { page } = carol
    const [victim] = (await history()).slice(-2)
    const db = new Database(server.app.config.databasePath)
    try {
      db.pragma('busy_timeout = 5000')
      db.prepare('UPDATE messages SET body = ? WHERE id = ?').run(new Fernet(Fernet.generateKey()).encrypt('lost'), victim!.id)
    } finally {
      db.close()
    }
    await page.reload()
    await connected(page)
    const item = page.locator(`li.msg[data-id="${victim!.id}"] .msg-body.unreadable`)
    await item.waitFor()
    await expect(item.innerText()).resolves.toBe('This message could not be read')
    await page.locator('.msg-body', { hasText: /^queued offline 40$/ }).waitFor()
  })
})
