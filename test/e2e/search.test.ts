// Search in the web client, in real Chromium, by keyboard only: the box in the header, results
// with room, author, time and a marked snippet (text, never HTML), Enter on a result opens its
// room at that message (far back: around= and the pages between), and the two filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { enter, hasChromium, launchBrowser, openPerson, startServer, waitUntil, type Person, type Server } from './harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('search in the web client', () => {
  let server: Server
  let browser: Browser
  let alice: Person

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
    alice = await openPerson(browser, server.url, 'alice')
    await enter(alice)
    const raw = await alice.page.evaluate<string | null>('localStorage.getItem("secure-chat.session")')
    const token = (JSON.parse(raw ?? '{}') as { token: string }).token
    const post = async (roomId: number, body: string): Promise<void> => {
      const res = await fetch(`${server.url}/api/rooms/${roomId}/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ body })
      })
      expect(res.status).toBe(201)
    }
    // The hit is far back: three pages of history come after it.
    await post(2, 'Where is the needle in <b>the</b> haystack?')
    for (let i = 0; i < 150; i++) await post(2, `filler message ${i}`)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('keyboard only: search, move to a result, Enter opens the room at that message, highlighted and focused', async () => {
    const { page } = alice
    await page.getByRole('heading', { name: '#General' }).waitFor()
    await page.getByRole('searchbox', { name: 'Search messages' }).focus()
    await page.keyboard.type('NEEDLE haystack')
    await page.keyboard.press('Enter')
    const result = page.locator('#search-results .search-result')
    await result.first().waitFor()
    await expect(result.count()).resolves.toBe(1)
    await expect(result.locator('.search-room').textContent()).resolves.toBe('#Development')
    await expect(result.locator('.search-author').textContent()).resolves.toBe('alice')
    await expect(result.locator('time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/)
    // The snippet is text: the markup in the message stays visible characters, and only the matches are marked.
    await expect(result.locator('.search-snippet').textContent()).resolves.toBe('Where is the needle in <b>the</b> haystack?')
    await expect(result.locator('.search-snippet b').count()).resolves.toBe(0)
    await expect(result.locator('mark').allTextContents()).resolves.toEqual(['needle', 'haystack'])

    await page.keyboard.press('ArrowDown')
    await waitUntil(page, 'document.activeElement?.classList.contains("search-result")')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: '#Development' }).waitFor()
    const hit = page.locator('#message-list li.search-hit')
    await hit.waitFor()
    await expect(hit.textContent()).resolves.toContain('Where is the needle')
    await waitUntil(page, 'document.activeElement?.classList.contains("search-hit")')
    // Older pages were joined on, with no hole: the messages after the hit are there in order.
    for (const n of [0, 60, 149]) await expect(page.locator('#message-list .msg-body', { hasText: new RegExp(`^filler message ${n}$`) }).count()).resolves.toBe(1)

    // Escape from the results goes back to the box, and from the box closes the panel.
    await page.locator('#search-results .search-result').first().focus()
    await page.keyboard.press('Escape')
    await waitUntil(page, 'document.activeElement?.id === "search-input"')
    await page.keyboard.press('Escape')
    await expect(page.locator('#search-panel').isHidden()).resolves.toBe(true)
  })

  it('filters: only the room on screen, and one person', async () => {
    const { page } = alice
    await page.getByRole('button', { name: 'General', exact: true }).click()
    await page.getByRole('heading', { name: '#General' }).waitFor()
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('needle')
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter')
    await page.locator('#search-results .search-result').first().waitFor()
    await page.getByLabel('Only this room').check()
    await page.locator('#search-status', { hasText: 'No messages match.' }).waitFor()
    await page.getByLabel('Only this room').uncheck()
    await page.locator('#search-results .search-result').first().waitFor()
    await page.getByLabel('From').fill('bob_nobody')
    await page.getByLabel('From').press('Enter')
    await page.locator('#search-status', { hasText: 'No messages match.' }).waitFor()
    await page.getByLabel('From').fill('alice')
    await page.getByLabel('From').press('Enter')
    await page.locator('#search-results .search-result').first().waitFor()
    await expect(page.locator('#search-results .search-result').count()).resolves.toBe(1)
    expect(alice.errors).toEqual([])
  })
})
