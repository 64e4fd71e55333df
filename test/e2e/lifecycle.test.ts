// The message lifecycle in real Chromium, two people in General: an edit (by keyboard), a delete,
// reactions, a reply whose quote jumps to a parent that is not loaded, and one person offline
// while the other edits, deletes and reacts, whose page then shows exactly the current state.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { connected, enter, expectNoPageErrors, hasChromium, launchBrowser, openPerson, startServer, waitUntil, type Person, type Server } from './harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('message lifecycle in Chromium', () => {
  let server: Server
  let browser: Browser
  let ann: Person
  let ben: Person
  const people: Person[] = []

  const row = (page: Page, text: string) => page.locator('#message-list li.msg', { hasText: text })
  const box = (page: Page) => page.getByLabel('Message', { exact: true })

  async function say (page: Page, text: string): Promise<void> {
    await box(page).fill(text)
    await box(page).press('Enter')
    await page.locator('#message-list li.msg:not(.pending)', { hasText: text }).waitFor()
  }

  async function act (page: Page, text: string, action: string): Promise<void> {
    const r = row(page, text)
    await r.hover()
    await r.getByRole('button', { name: 'Message actions' }).click()
    await page.getByRole('menuitem', { name: action, exact: true }).click()
  }

  async function token (person: Person): Promise<string> {
    const raw = await person.page.evaluate<string | null>('localStorage.getItem("secure-chat.session")')
    return (JSON.parse(raw ?? '{}') as { token: string }).token
  }

  async function post (person: Person, roomId: number, body: string): Promise<number> {
    const res = await fetch(`${server.url}/api/rooms/${roomId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(person)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body })
    })
    expect(res.status).toBe(201)
    return ((await res.json()) as { message: { id: number } }).message.id
  }

  /** What a page shows of every message: id, text, edit mark, reaction counts (not who pressed). */
  const snapshot = (page: Page) => page.evaluate<string[]>(
    '[...document.querySelectorAll("#message-list li.msg")].map((li) => li.dataset.id + "|" + li.querySelector(".msg-content").innerText)')

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
    ann = await openPerson(browser, server.url, 'ann')
    ben = await openPerson(browser, server.url, 'ben')
    people.push(ann, ben)
    for (const p of people) await enter(p)
    for (const p of people) await p.page.getByRole('heading', { name: '#General' }).waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  afterEach(() => {
    expectNoPageErrors(people)
  })

  it('edit in place by keyboard: Enter saves, the other sees the new text and "(edited)"; Esc cancels', async () => {
    await say(ann.page, 'first draft')
    const mine = row(ann.page, 'first draft')
    await mine.focus()
    await ann.page.keyboard.press('Enter') // the focused message opens its actions
    await ann.page.getByRole('menuitem', { name: 'Reply', exact: true }).waitFor()
    expect(await ann.page.evaluate('document.activeElement?.textContent')).toBe('Reply')
    await ann.page.keyboard.press('ArrowDown')
    await ann.page.keyboard.press('Enter') // Edit
    const editor = ann.page.getByRole('textbox', { name: 'Edit message' })
    await editor.fill('final text')
    await editor.press('Enter')
    const theirs = row(ben.page, 'final text')
    await theirs.locator('.msg-edited', { hasText: '(edited)' }).waitFor()
    expect(await theirs.locator('.msg-edited').getAttribute('title')).toMatch(/^Edited /)
    expect(await row(ben.page, 'first draft').count()).toBe(0)

    await act(ann.page, 'final text', 'Edit')
    await editor.fill('never saved')
    await editor.press('Escape')
    await editor.waitFor({ state: 'detached' })
    await row(ann.page, 'final text').waitFor()
    // Ben may not edit or pin Ann's message (a member in a public room), but may reply and react.
    await row(ben.page, 'final text').hover()
    await row(ben.page, 'final text').getByRole('button', { name: 'Message actions' }).click()
    const items = await ben.page.getByRole('menuitem').allTextContents()
    expect(items).toEqual(['Reply', 'Add reaction'])
    await ben.page.keyboard.press('Escape')
  })

  it('delete: the other sees "Message deleted" and the text is gone', async () => {
    await say(ann.page, 'oops, wrong room')
    await row(ben.page, 'oops, wrong room').waitFor()
    const id = await row(ann.page, 'oops, wrong room').getAttribute('data-id')
    await act(ann.page, 'oops, wrong room', 'Delete')
    await ben.page.locator(`li.msg[data-id="${id}"] .msg-body.deleted`, { hasText: 'Message deleted' }).waitFor()
    expect(await row(ben.page, 'oops, wrong room').count()).toBe(0)
  })

  it('react: toggle buttons with aria-pressed and a count the other sees', async () => {
    await act(ben.page, 'final text', 'Add reaction')
    await ben.page.getByRole('menuitem', { name: '👍', exact: true }).click()
    const bens = row(ben.page, 'final text').getByRole('button', { name: '👍 1, you reacted', exact: true })
    await bens.waitFor()
    expect(await bens.getAttribute('aria-pressed')).toBe('true')
    const anns = row(ann.page, 'final text').getByRole('button', { name: '👍 1', exact: true })
    await anns.waitFor()
    expect(await anns.getAttribute('aria-pressed')).toBe('false')
    await anns.click()
    await row(ben.page, 'final text').getByRole('button', { name: '👍 2, you reacted', exact: true }).waitFor()
    await row(ann.page, 'final text').getByRole('button', { name: '👍 2, you reacted', exact: true }).waitFor()
  })

  it('reply: the quote is shown, and clicking it jumps to a parent that is not loaded (around=)', async () => {
    const roomId = Number(await ann.page.locator('button.room[aria-current="true"]').getAttribute('data-room-id'))
    const parentId = await post(ann, roomId, 'the plan: ship on Friday')
    for (let i = 0; i < 60; i++) await post(ann, roomId, `filler ${i}`)
    await row(ben.page, 'filler 59').waitFor()
    await act(ben.page, 'filler 59', 'Reply')
    await ben.page.locator('#reply-bar', { hasText: 'Replying to ann: filler 59' }).waitFor()
    await say(ben.page, 'sounds good')
    await row(ann.page, 'sounds good').locator('.msg-quote', { hasText: 'filler 59' }).waitFor()

    // A reply to the old message, made elsewhere; Ann reloads, so only the newest page is loaded.
    const res = await fetch(`${server.url}/api/rooms/${roomId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(ben)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Friday works', replyTo: parentId })
    })
    expect(res.status).toBe(201)
    await ann.page.reload()
    await connected(ann.page)
    const quote = row(ann.page, 'Friday works').getByRole('button', { name: /^Reply to ann: the plan: ship on Friday/ })
    await quote.waitFor()
    expect(await ann.page.locator(`li.msg[data-id="${parentId}"]`).count()).toBe(0)
    await quote.click()
    const parent = ann.page.locator(`li.msg.highlight[data-id="${parentId}"]`)
    await parent.waitFor()
    await expect(parent.isVisible()).resolves.toBe(true)
    await waitUntil(ann.page, `document.activeElement?.dataset?.id === "${parentId}"`)
  })

  it('offline, then catch-up: the page shows exactly the current state after edits, deletes and reactions it missed', async () => {
    await ann.page.locator('#jump-latest').click().catch(() => {}) // back to the newest, if scrolled up
    await say(ann.page, 'alpha')
    await say(ann.page, 'bravo')
    await say(ann.page, 'charlie')
    await row(ben.page, 'charlie').waitFor()

    await ben.context.setOffline(true)
    await ben.page.locator('#connection-banner:not([hidden])').waitFor()
    await act(ann.page, 'alpha', 'Edit')
    const editor = ann.page.getByRole('textbox', { name: 'Edit message' })
    await editor.fill('alpha, corrected')
    await editor.press('Enter')
    await row(ann.page, 'alpha, corrected').locator('.msg-edited').waitFor()
    await act(ann.page, 'bravo', 'Delete')
    const bravoId = await ann.page.locator('li.msg:has(.msg-body.deleted)').last().getAttribute('data-id')
    await act(ann.page, 'charlie', 'Add reaction')
    await ann.page.getByRole('menuitem', { name: '🎉', exact: true }).click()
    await row(ann.page, 'charlie').getByRole('button', { name: '🎉 1, you reacted' }).waitFor()
    // While offline, Ben still shows the old state.
    await row(ben.page, 'bravo').waitFor()

    await ben.context.setOffline(false)
    await connected(ben.page)
    await row(ben.page, 'alpha, corrected').locator('.msg-edited').waitFor()
    await ben.page.locator(`li.msg[data-id="${bravoId}"] .msg-body.deleted`).waitFor()
    await row(ben.page, 'charlie').getByRole('button', { name: '🎉 1', exact: true }).waitFor()
    expect(await row(ben.page, 'bravo').count()).toBe(0)
    // Exactly what Ann (online all along) shows, message for message.
    const annIds = new Set((await snapshot(ann.page)).map((s) => s.split('|')[0]))
    const bens = (await snapshot(ben.page)).filter((s) => annIds.has(s.split('|')[0]))
    const anns = (await snapshot(ann.page)).filter((s) => bens.some((b) => b.split('|')[0] === s.split('|')[0]))
    expect(bens.length).toBeGreaterThan(5)
    expect(bens).toEqual(anns)
  })

  it('mute and mentions: a muted room shows no unread badge but its own mention badge; "@" suggests people', async () => {
    const general = (page: Page) => page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: 'General', exact: true })
    await ben.page.getByRole('button', { name: 'Room menu', exact: true }).click()
    await ben.page.getByRole('menuitem', { name: 'Mute room', exact: true }).click()
    await waitUntil(ben.page, 'document.getElementById(`room-unread-${document.querySelector("button.room[aria-current]").dataset.roomId}`).textContent === "muted"')
    await ben.page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: 'Development', exact: true }).click()
    await ben.page.getByRole('heading', { name: '#Development' }).waitFor()

    await say(ann.page, 'just chatting')
    await box(ann.page).pressSequentially('@be')
    await ann.page.getByRole('option', { name: '@ben' }).waitFor()
    await box(ann.page).press('Enter') // completes the name, does not send
    await box(ann.page).pressSequentially('look here')
    expect(await box(ann.page).inputValue()).toBe('@ben look here')
    await box(ann.page).press('Enter')
    await row(ann.page, 'look here').locator('mark.mention', { hasText: '@ben' }).waitFor()

    await general(ben.page).locator('.mention-badge:not([hidden])', { hasText: '@1' }).waitFor()
    expect(await general(ben.page).locator('.badge').isVisible()).toBe(false)
    await general(ben.page).click()
    await row(ben.page, 'look here').locator('mark.mention.me', { hasText: '@ben' }).waitFor()
    await general(ben.page).locator('.mention-badge').waitFor({ state: 'hidden' })
  })
})
