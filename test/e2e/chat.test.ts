// The web client in real Chromium against the real server: two people chatting, media, unread
// counts, history paging, hostile message text, reconnecting, and the phone layout.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import {
  connected, enter, expectNoPageErrors, waitUntil, ensureScreenshotDir, hasChromium, launchBrowser, makePng, openPerson, PASSWORD,
  SCREENSHOT_DIR, startServer, type Person, type Server
} from './harness.js'
import { available } from '../requirements.js'

if (!hasChromium) console.log('chromium not found at /usr/bin/chromium: skipping browser tests')

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('web client in Chromium', () => {
  let server: Server
  let browser: Browser
  let alice: Person
  let bob: Person
  const people: Person[] = []

  const messages = (page: Page) => page.locator('#message-list li.msg')
  const messageBodies = (page: Page) => page.locator('#message-list .msg-body')
  const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  const room = (page: Page, name: string) => page.getByRole('button', { name, exact: true })

  async function api<T> (path: string, token: string, body?: unknown): Promise<T> {
    const res = await fetch(server.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
    return await res.json() as T
  }

  async function tokenOf (person: Person): Promise<string> {
    const raw = await person.page.evaluate<string | null>('localStorage.getItem("secure-chat.session")')
    return (JSON.parse(raw ?? '{}') as { token: string }).token
  }

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
    alice = await openPerson(browser, server.url, 'alice')
    bob = await openPerson(browser, server.url, 'bob')
    people.push(alice, bob)
    ensureScreenshotDir()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  afterEach(() => {
    expectNoPageErrors(people)
  })

  it('shows form errors next to the form and registers two people', async () => {
    const { page } = alice
    alice.expected = [/status of 40[01]/]
    await page.goto('/')
    await expect(page.title()).resolves.toBe('Secure Chat')
    await page.getByLabel('Username').fill('al')
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Register', exact: true }).click()
    await page.locator('#username-error, #password-error').first().filter({ hasText: /\S/ }).waitFor()
    await page.getByLabel('Username').fill('nobody')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    await page.locator('#auth-error', { hasText: 'Wrong username or password.' }).waitFor()

    await enter(alice)
    await enter(bob)
    await expect(alice.page.getByRole('heading', { name: '#General' }).isVisible()).resolves.toBe(true)
  })

  it('chats both ways live, with presence and typing', async () => {
    await alice.page.locator('#online-list', { hasText: bob.name }).waitFor()
    await bob.page.locator('#online-list', { hasText: alice.name }).waitFor()

    const box = alice.page.getByLabel('Message', { exact: true })
    await box.pressSequentially('Hello Bob')
    await bob.page.locator('#typing', { hasText: `${alice.name} is typing…` }).waitFor()
    await box.press('Shift+Enter')
    await box.pressSequentially('second line')
    await box.press('Enter')
    await expect(box.inputValue()).resolves.toBe('')
    await bob.page.locator('#typing:empty').waitFor() // isTyping:false on send
    await bob.page.locator('.msg-body', { hasText: 'Hello Bob' }).waitFor()
    await expect(bob.page.locator('.msg-body', { hasText: 'Hello Bob' }).innerText()).resolves.toBe('Hello Bob\nsecond line')
    await alice.page.locator('li.msg:not(.pending) .msg-body', { hasText: 'Hello Bob' }).waitFor()

    await bob.page.getByLabel('Message', { exact: true }).fill('Hi Alice! See https://example.com/docs.')
    await bob.page.getByRole('button', { name: 'Send', exact: true }).click()
    const link = alice.page.getByRole('link', { name: 'https://example.com/docs' })
    await link.waitFor()
    await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer')
    await expect(link.getAttribute('target')).resolves.toBe('_blank')
    await expect(messages(alice.page).count()).resolves.toBe(2)
  })

  it('inserts emoji at the caret, by mouse and by keyboard', async () => {
    const { page } = alice
    const box = page.getByLabel('Message', { exact: true })
    await box.fill('ab')
    await box.press('ArrowLeft')
    await page.getByRole('button', { name: 'Emoji', exact: true }).click()
    await page.getByRole('button', { name: 'thumbs up', exact: true }).click()
    await expect(box.inputValue()).resolves.toBe('a👍b')
    await expect(page.getByRole('dialog', { name: 'Choose an emoji' }).isHidden()).resolves.toBe(true)

    await page.getByRole('button', { name: 'Emoji', exact: true }).focus()
    await page.keyboard.press('Enter') // opens the picker, focus on the emoji used last
    await page.keyboard.press('Home') // 😀
    await page.keyboard.press('ArrowRight') // 😂
    await page.keyboard.press('Enter')
    await expect(box.inputValue()).resolves.toBe('a👍😂b')
    await box.press('Enter')
    await bob.page.locator('.msg-body', { hasText: 'a👍😂b' }).waitFor()
  })

  it('uploads an image and a dropped file; the other side sees the preview and the link', async () => {
    await alice.page.locator('#file-input').setInputFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: makePng() })
    // The image sits inside a button (full size on click), so it is found by the button's name.
    await bob.page.getByRole('button', { name: 'View image gradient.png at full size' }).waitFor()
    await waitUntil(bob.page, '[...document.querySelectorAll("#message-list img")].every((i) => i.complete && i.naturalWidth > 0)')
    await alice.page.locator('#message-list img[alt="gradient.png"]').waitFor()

    // Full size on click, in a dialog that Escape closes.
    await bob.page.getByRole('button', { name: 'View image gradient.png at full size' }).click()
    await bob.page.locator('#lightbox[open] img[src*="/media/"]').waitFor()
    await bob.page.keyboard.press('Escape')
    await bob.page.locator('#lightbox:not([open])').waitFor({ state: 'attached' })

    // Drag and drop a text file onto the conversation.
    await alice.page.evaluate(`(() => {
      const data = new DataTransfer()
      data.items.add(new File(['meeting notes\\n'], 'notes.txt', { type: 'text/plain' }))
      const main = document.getElementById('main')
      for (const type of ['dragenter', 'dragover', 'drop']) {
        main.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }))
      }
    })()`)
    const download = bob.page.getByRole('link', { name: /notes\.txt/ })
    await download.waitFor()
    await expect(download.getAttribute('download')).resolves.toBe('notes.txt')

    // Paste an image into the message box.
    await alice.page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(makePng(16, 16).toString('base64'))}), (c) => c.charCodeAt(0))
      const data = new DataTransfer()
      data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }))
      document.getElementById('composer-input').dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    })()`)
    await bob.page.getByRole('button', { name: 'View image pasted.png at full size' }).waitFor()
  })

  it('shows hostile text as text and never opens a dialog', async () => {
    const hostile = ['<img src=x onerror=alert(1)>', '<svg onload=alert(1)>', '[x](javascript:alert(1))', 'javascript:alert(1)']
    for (const text of hostile) {
      await alice.page.getByLabel('Message', { exact: true }).fill(text)
      await alice.page.keyboard.press('Enter')
      await bob.page.locator('.msg-body').filter({ hasText: exactly(text) }).waitFor()
    }
    await expect(bob.page.locator('#message-list img[src="x"], #message-list svg').count()).resolves.toBe(0)
    await expect(bob.page.locator('#message-list a[href^="javascript"]').count()).resolves.toBe(0)
    await bob.page.waitForTimeout(200) // a dialog, if any, would have opened by now (collected as an error)
  })

  it('marks a refused message as failed, with Retry and Discard', async () => {
    const { page } = alice
    // Past the box's maxlength (set from script, as an old client might): the server refuses it.
    await page.evaluate('document.getElementById("composer-input").value = "y".repeat(4001)')
    await page.getByLabel('Message', { exact: true }).press('Enter')
    const failed = page.locator('li.msg.failed')
    await failed.waitFor()
    await expect(failed.locator('.msg-status').innerText()).resolves.toMatch(/^Not sent:/)
    await failed.getByRole('button', { name: 'Retry' }).click() // same clientId, refused again
    await page.locator('li.msg.failed').waitFor()
    await expect(page.locator('li.msg.failed, li.msg.pending').count()).resolves.toBe(1)
    await page.locator('li.msg.failed').getByRole('button', { name: 'Discard' }).click()
    await page.locator('li.msg.failed').waitFor({ state: 'detached' })
    await expect(bob.page.locator('.msg-body', { hasText: 'yyyyyyyyyy' }).count()).resolves.toBe(0)
  })

  it('counts unread messages in other rooms in the badge and the title', async () => {
    const roomName = 'Design'
    await alice.page.getByLabel('Room name').fill(roomName)
    await alice.page.getByRole('button', { name: 'Create room' }).click()
    await alice.page.getByRole('heading', { name: `#${roomName}` }).waitFor()
    await room(bob.page, roomName).waitFor() // announced live

    for (const text of ['first in design', 'second in design']) {
      await alice.page.getByLabel('Message', { exact: true }).fill(text)
      await alice.page.keyboard.press('Enter')
    }
    await waitUntil(bob.page, 'document.title === "(2) Secure Chat"')
    await expect(room(bob.page, roomName).locator('.badge').innerText()).resolves.toBe('2')
    await expect(room(bob.page, roomName).getAttribute('aria-describedby')).resolves.toBeTruthy()

    await room(bob.page, roomName).click()
    await bob.page.locator('.msg-body', { hasText: 'second in design' }).waitFor()
    await waitUntil(bob.page, 'document.title === "Secure Chat"')
    await expect(room(bob.page, roomName).locator('.badge').isHidden()).resolves.toBe(true)

    // The read position is stored on the server: a reload shows no unread count.
    await bob.page.reload()
    await connected(bob.page)
    await bob.page.locator('.msg-body', { hasText: 'second in design' }).waitFor()
    await expect(bob.page.title()).resolves.toBe('Secure Chat')
  })

  it('keeps the session and the history across a reload', async () => {
    await room(bob.page, 'General').click()
    await bob.page.locator('.msg-body', { hasText: 'a👍😂b' }).waitFor()
    await bob.page.reload()
    await connected(bob.page)
    await expect(bob.page.getByLabel('Password').isVisible()).resolves.toBe(false)
    await bob.page.locator('.msg-body', { hasText: 'Hello Bob' }).waitFor()
    await bob.page.getByRole('button', { name: 'View image gradient.png at full size' }).waitFor()
  })

  it('loads older history on scroll-up without moving the view', async () => {
    const token = await tokenOf(alice)
    const { room: history } = await api<{ room: { id: number, name: string } }>('/api/rooms', token, { name: 'History' })
    for (let i = 1; i <= 120; i++) {
      await api(`/api/rooms/${history.id}/messages`, token, { body: `seed ${i}`, clientId: `seed-${i}` })
    }
    const { page } = bob
    await room(page, history.name).click()
    await page.locator('.msg-body', { hasText: /^seed 120$/ }).waitFor()
    const firstCount = await messageBodies(page).count()
    expect(firstCount).toBeLessThan(120)

    // Scroll to the top: older pages load, and the message that was at the top stays where it was.
    for (let round = 0; round < 5 && (await messageBodies(page).count()) < 120; round++) {
      const topText = await page.evaluate<string>(`(() => {
        const scroller = document.getElementById('message-scroller')
        scroller.scrollTop = 0
        scroller.dispatchEvent(new Event('scroll'))
        const first = document.querySelector('#message-list li.msg')
        window.__anchor = { el: first, top: first.getBoundingClientRect().top }
        return first.querySelector('.msg-body').textContent
      })()`)
      await waitUntil(page, `document.querySelector('#message-list li.msg .msg-body').textContent !== ${JSON.stringify(topText)}`)
      const moved = await page.evaluate<number>('Math.abs(window.__anchor.el.getBoundingClientRect().top - window.__anchor.top)')
      expect(moved).toBeLessThan(2)
    }
    await expect(messageBodies(page).count()).resolves.toBe(120)
    await page.locator('.msg-body', { hasText: /^seed 1$/ }).waitFor()
    await page.locator('#history-status', { hasText: 'This is the beginning' }).waitFor()
  })

  it('reconnects after a network drop: catches up, and sends what was typed offline', async () => {
    await room(alice.page, 'General').click()
    await room(bob.page, 'General').click()
    await bob.page.locator('.msg-body', { hasText: 'Hello Bob' }).waitFor()

    await bob.context.setOffline(true)
    await bob.page.locator('#connection-banner:not([hidden])').waitFor()
    await expect(bob.page.locator('#connection-banner').innerText()).resolves.toMatch(/Reconnect/)

    await alice.page.getByLabel('Message', { exact: true }).fill('sent while bob was away')
    await alice.page.keyboard.press('Enter')
    await bob.page.getByLabel('Message', { exact: true }).fill('typed while offline')
    await bob.page.keyboard.press('Enter')
    await bob.page.locator('li.msg.pending .msg-body', { hasText: 'typed while offline' }).waitFor()

    await bob.context.setOffline(false)
    await connected(bob.page)
    await bob.page.locator('.msg-body', { hasText: 'sent while bob was away' }).waitFor()
    await bob.page.locator('li.msg:not(.pending) .msg-body', { hasText: 'typed while offline' }).waitFor()
    await alice.page.locator('.msg-body', { hasText: 'typed while offline' }).waitFor()
    await expect(bob.page.locator('.msg-body', { hasText: 'sent while bob was away' }).count()).resolves.toBe(1)
    await expect(alice.page.locator('.msg-body', { hasText: 'typed while offline' }).count()).resolves.toBe(1)
    await expect(bob.page.locator('#connection-banner').isHidden()).resolves.toBe(true)

    // The server closes every socket (1012, as before a restart): clients come back by themselves.
    server.app.hub.closeAll(1012, 'service restart')
    await api(`/api/rooms/1/messages`, await tokenOf(alice), { body: 'sent during the drop' })
    await connected(bob.page)
    await bob.page.locator('.msg-body', { hasText: 'sent during the drop' }).waitFor()
    await expect(bob.page.locator('.msg-body', { hasText: 'sent during the drop' }).count()).resolves.toBe(1)
  })

  it('looks right on a desktop and on a phone (390×844), where the rooms are a drawer', async () => {
    // A friendly conversation for the README screenshots.
    const [aliceToken, bobToken] = await Promise.all([tokenOf(alice), tokenOf(bob)])
    const { room: launch } = await api<{ room: { id: number, name: string } }>('/api/rooms', aliceToken,
      { name: 'Launch', topic: 'Release planning for v2.0' })
    const say = (token: string, body: string) => api(`/api/rooms/${launch.id}/messages`, token, { body })
    await say(bobToken, 'Morning! Are we still on for the launch review at 3?')
    await say(aliceToken, 'Yes. I pushed the new onboarding flow to staging this morning.')
    await say(aliceToken, 'Release notes draft: https://example.com/release-notes')
    await say(bobToken, 'Looks great. The login page feels much faster now.')
    await room(alice.page, 'Launch').click()
    await alice.page.locator('#file-input').setInputFiles({ name: 'dashboard.png', mimeType: 'image/png', buffer: makePng(320, 180) })
    await alice.page.locator('li.msg img[alt="dashboard.png"]').waitFor()
    await say(bobToken, 'Ship it!')
    const supportId = (await api<{ rooms: Array<{ id: number, name: string }> }>('/api/rooms', bobToken))
      .rooms.find((r) => r.name === 'Support')?.id
    await api(`/api/rooms/${supportId}/messages`, bobToken, { body: 'Customer asked about SSO' })
    await waitUntil(alice.page, 'document.title === "(1) Secure Chat"')
    await room(bob.page, 'Launch').click()
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('On my')
    await alice.page.locator('#typing', { hasText: 'is typing' }).waitFor()
    await alice.page.locator('.msg-body', { hasText: 'Ship it!' }).waitFor()
    await waitUntil(alice.page, '[...document.querySelectorAll("#message-list img")].every((i) => i.complete)')
    await alice.page.locator('#upload-list li').waitFor({ state: 'detached' })
    await alice.page.mouse.move(1, 1)
    await alice.page.screenshot({ path: `${SCREENSHOT_DIR}/desktop.png` })
    await alice.page.emulateMedia({ colorScheme: 'dark' })
    await alice.page.waitForTimeout(300) // let the buttons' colour transition finish
    await alice.page.screenshot({ path: `${SCREENSHOT_DIR}/desktop-dark.png` })
    await alice.page.emulateMedia({ colorScheme: 'light' })
    await bob.page.getByLabel('Message', { exact: true }).fill('')

    const phone = await openPerson(browser, server.url, bob.name, { width: 390, height: 844 })
    people.push(phone)
    await enter(phone, 'Log in')
    const { page } = phone
    await page.getByRole('heading', { name: '#General' }).waitFor()
    await expect(room(page, 'General').isVisible()).resolves.toBe(false) // the drawer is closed
    const toggle = page.getByRole('button', { name: 'Room list', exact: true })
    await toggle.click()
    await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('true')
    await room(page, 'Launch').click()
    await page.getByRole('heading', { name: '#Launch' }).waitFor()
    await expect(toggle.getAttribute('aria-expanded')).resolves.toBe('false')
    await page.getByRole('button', { name: 'Log out' }).waitFor({ state: 'hidden' })

    await page.locator('.msg-body', { hasText: 'Ship it!' }).waitFor()
    await waitUntil(page, '[...document.querySelectorAll("#message-list img")].every((i) => i.complete)')
    const width = await page.evaluate<number>('document.documentElement.scrollWidth')
    expect(width).toBeLessThanOrEqual(390) // nothing sticks out sideways
    await page.mouse.move(1, 1)
    await page.screenshot({ path: `${SCREENSHOT_DIR}/phone.png` })
  })

  it('logs out, and an expired session returns to the login form with a note', async () => {
    const { page } = alice
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.locator('#auth-note', { hasText: 'You are logged out.' }).waitFor()
    await expect(page.evaluate('localStorage.getItem("secure-chat.session")')).resolves.toBeNull()

    await page.evaluate(`localStorage.setItem('secure-chat.session', JSON.stringify({
      token: 'x.y.z', expiresAt: new Date(Date.now() - 1000).toISOString(), user: { id: 1, username: 'old', createdAt: '' }
    }))`)
    await page.reload()
    await page.locator('#auth-note', { hasText: 'expired' }).waitFor()
    await expect(page.getByLabel('Username').isVisible()).resolves.toBe(true)
  })
})
