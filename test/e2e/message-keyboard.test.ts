// The message list by keyboard in real Chromium: one Tab stop however many messages (a roving
// tabindex), arrows/Home/End/PageUp between messages, Enter for "Message actions", and the stop
// kept on its message through new messages, a redraw of that message and older pages loaded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { enter, hasChromium, launchBrowser, openPerson, startServer, waitUntil, type Person, type Server } from './harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('message list by keyboard in Chromium', () => {
  let server: Server
  let browser: Browser
  let ann: Person
  let token = ''
  let roomId = 0

  async function api<T> (path: string, body: unknown): Promise<T> {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    expect(res.ok, `${path}: ${res.status}`).toBe(true)
    return await res.json() as T
  }

  const post = (body: string) => api(`/api/rooms/${roomId}/messages`, { body })
  const shown = (page: Page, text: string) => page.locator('#message-list li.msg .msg-body').filter({ hasText: new RegExp(`^${text}$`) }).waitFor()
  /** The body text of the focused message, or a description of whatever else has focus. */
  const focused = (page: Page) => page.evaluate<string>(`(() => {
    const el = document.activeElement
    if (el?.matches('li.msg')) return el.querySelector('.msg-body')?.textContent ?? '(message without text)'
    return el?.getAttribute('aria-label') || el?.id || el?.textContent || 'nothing'
  })()`)
  /** Everything inside the list that Tab can land on: the roving stop and its own controls. */
  const tabbable = (page: Page) => page.evaluate<string[]>(
    '[...document.querySelectorAll("#message-list *")].filter((el) => el.tabIndex >= 0).map((el) => el.querySelector?.(".msg-body")?.textContent ?? el.getAttribute("aria-label") ?? el.tagName)')

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
    ann = await openPerson(browser, server.url, 'ann')
    await enter(ann)
    const raw = await ann.page.evaluate<string | null>('localStorage.getItem("secure-chat.session")')
    token = (JSON.parse(raw ?? '{}') as { token: string }).token
    roomId = (await api<{ room: { id: number } }>('/api/rooms', { name: 'Keys' })).room.id
    for (let i = 1; i <= 3; i++) await post(`line ${i}`)
    await ann.page.getByRole('button', { name: 'Keys', exact: true }).click()
    await ann.page.getByRole('heading', { name: '#Keys' }).waitFor()
    await shown(ann.page, 'line 3')
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  afterEach(() => {
    const errors = ann.errors.splice(0)
    expect(errors, 'console/page errors').toEqual([])
  })

  it('one Tab stop: Shift+Tab from the composer reaches the newest message, Tab leaves the list, with 3 messages or 63', async () => {
    const { page } = ann
    expect(await tabbable(page)).toEqual(['line 3'])
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('line 3')
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('Attach file')

    // Many more, live: still one stop, and it stays on the message last focused, not the newest.
    for (let i = 4; i <= 63; i++) await post(`line ${i}`)
    await shown(page, 'line 63')
    expect(await tabbable(page)).toEqual(['line 3'])
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('line 3')
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('Attach file')
  })

  it('arrows, Home, End and PageUp move between messages, and the stop moves with the focus', async () => {
    const { page } = ann
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('line 3')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('line 4')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowUp')
    expect(await focused(page)).toBe('line 4')
    await page.keyboard.press('End')
    expect(await focused(page)).toBe('line 63')
    await page.keyboard.press('ArrowDown') // the newest stays put
    expect(await focused(page)).toBe('line 63')
    await page.keyboard.press('PageUp')
    const paged = Number((await focused(page)).replace('line ', ''))
    expect(paged).toBeLessThan(62)
    expect(paged).toBeGreaterThan(1)
    await expect(page.evaluate('document.activeElement.getBoundingClientRect().top >= document.getElementById("message-scroller").getBoundingClientRect().top')).resolves.toBe(true)
    expect(await tabbable(page)).toEqual([`line ${paged}`])
    // Out and back in: the last message focused, not the newest.
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('Attach file')
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe(`line ${paged}`)
    await page.keyboard.press('End')
    expect(await focused(page)).toBe('line 63')
  })

  it('Enter opens "Message actions"; a reaction redraws the message and the stop and focus stay on it', async () => {
    const { page } = ann
    await page.keyboard.press('ArrowUp')
    expect(await focused(page)).toBe('line 62')
    await page.keyboard.press('Enter')
    await page.getByRole('menu', { name: 'Message actions' }).waitFor()
    expect(await focused(page)).toBe('Reply')
    await page.getByRole('menuitem', { name: 'Add reaction', exact: true }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('menuitem', { name: '👍', exact: true }).focus()
    await page.keyboard.press('Enter')
    const row = page.locator('#message-list li.msg', { hasText: 'line 62' })
    await row.getByRole('button', { name: '👍 1, you reacted', exact: true }).waitFor()
    await waitUntil(page, 'document.activeElement?.querySelector(".msg-body")?.textContent === "line 62"')
    // The stop's own controls are in the Tab order, and only the stop's.
    expect(await tabbable(page)).toEqual(['line 62', '👍 1, you reacted'])
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('👍 1, you reacted')
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('Attach file')
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('ArrowUp') // from the reaction button too
    expect(await focused(page)).toBe('line 61')
    expect(await tabbable(page)).toEqual(['line 61'])
    await page.keyboard.press('ArrowDown')
    expect(await tabbable(page)).toEqual(['line 62', '👍 1, you reacted'])
  })

  it('Home reaches the first loaded message; older pages load above it and the stop stays on its message', async () => {
    const { page } = ann
    await page.reload()
    await page.getByRole('button', { name: 'Keys', exact: true }).click()
    await shown(page, 'line 63')
    const before = await page.locator('#message-list li.msg').count()
    expect(before).toBeLessThan(63) // only the newest page is loaded
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('line 63')
    await page.keyboard.press('Home')
    const first = await focused(page)
    expect(first).toBe(`line ${63 - before + 1}`)
    await waitUntil(page, `document.querySelectorAll('#message-list li.msg').length === 63`)
    expect(await focused(page)).toBe(first)
    expect(await tabbable(page)).toEqual([first])
    await page.keyboard.press('Home')
    expect(await focused(page)).toBe('line 1')
    await page.keyboard.press('ArrowUp') // nothing older
    expect(await focused(page)).toBe('line 1')
    await page.locator('#history-status', { hasText: 'This is the beginning' }).waitFor()
    await page.keyboard.press('Tab')
    expect(await focused(page)).not.toMatch(/^line /)
  })
})
