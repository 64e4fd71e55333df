// Conversations in real Chromium, three people: a private room made and someone added (they see
// it live), a DM started from "New message", a kick watched from the kicked person's client, and
// an archived room turning read-only.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { enter, expectNoPageErrors, hasChromium, launchBrowser, makePng, openPerson, startServer, waitUntil, type Person, type Server } from './harness.js'
import { available } from '../requirements.js'

describe.skipIf(!available('Chromium (/usr/bin/chromium)', hasChromium))('conversations in Chromium', () => {
  let server: Server
  let browser: Browser
  let ann: Person
  let ben: Person
  let cat: Person
  const people: Person[] = []

  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true })
  const rooms = (page: Page) => page.getByRole('navigation', { name: 'Rooms' })
  const dms = (page: Page) => page.getByRole('navigation', { name: 'Direct messages' })

  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
    ann = await openPerson(browser, server.url, 'ann') // the first account: a server administrator
    ben = await openPerson(browser, server.url, 'ben')
    cat = await openPerson(browser, server.url, 'cat')
    people.push(ann, ben, cat)
    for (const p of people) await enter(p)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  afterEach(() => {
    expectNoPageErrors(people)
  })

  async function addMember (page: Page, name: string): Promise<void> {
    await page.getByLabel('Add member').fill(name)
    await button(page, 'Add member').click()
    await page.getByRole('combobox', { name: `Role of ${name}` }).or(page.locator('#settings-members li', { hasText: name })).first().waitFor()
  }

  it('a private room: made with the Private box, shown with a lock, invisible to others until they are added, then live', async () => {
    const { page } = ann
    await page.getByLabel('Room name').fill('Hideout')
    await page.getByLabel('Private').check()
    await button(page, 'Create room').click()
    await page.getByRole('heading', { name: '#Hideout' }).waitFor()
    await rooms(page).getByRole('button', { name: 'Hideout Private', exact: true }).waitFor()
    expect(await rooms(ben.page).getByRole('button', { name: /Hideout/ }).count()).toBe(0)

    await button(page, 'Room settings').click()
    const dialog = page.getByRole('dialog', { name: 'Room settings' })
    await dialog.getByRole('heading', { name: 'Members' }).waitFor()
    await dialog.locator('li', { hasText: 'ann' }).waitFor()
    await addMember(page, 'ben')
    // Ben's client hears of it at once, with the lock, and can open it.
    await rooms(ben.page).getByRole('button', { name: 'Hideout Private', exact: true }).click()
    await ben.page.getByRole('heading', { name: '#Hideout' }).waitFor()
    await dialog.getByRole('combobox', { name: 'Role of ben' }).waitFor()
    await button(page, 'Close').click()
    // A picture shared there loads for Ben through the media cookie (an <img> sends no Authorization header).
    await page.locator('#file-input').setInputFiles({ name: 'map.png', mimeType: 'image/png', buffer: makePng() })
    await ben.page.locator('#message-list img').waitFor()
    await waitUntil(ben.page, '[...document.querySelectorAll("#message-list img")].every((i) => i.complete && i.naturalWidth > 0)')
    expect(await rooms(cat.page).getByRole('button', { name: /Hideout/ }).count()).toBe(0)
  })

  it('a DM: New message → Find people → start; the other person sees it live under Direct messages', async () => {
    const { page } = ben
    await button(page, 'New message').click()
    const dialog = page.getByRole('dialog', { name: 'New message' })
    await dialog.getByLabel('Find people').fill('ca')
    await dialog.getByRole('button', { name: 'cat', exact: true }).click()
    await button(page, 'Start conversation').click()
    await page.getByRole('heading', { name: 'cat', exact: true }).waitFor()
    await dms(page).getByRole('button', { name: 'cat', exact: true }).waitFor()
    await page.getByLabel('Message', { exact: true }).fill('psst, cat')
    await page.keyboard.press('Enter')
    await dms(cat.page).getByRole('button', { name: 'ben', exact: true }).click()
    await cat.page.getByRole('heading', { name: 'ben', exact: true }).waitFor()
    await cat.page.locator('#message-list .msg-body', { hasText: 'psst, cat' }).waitFor()
    // The same people again open the same conversation.
    await button(cat.page, 'New message').click()
    await cat.page.getByLabel('Find people').fill('be')
    await cat.page.getByRole('dialog', { name: 'New message' }).getByRole('button', { name: 'ben', exact: true }).click()
    await button(cat.page, 'Start conversation').click()
    await cat.page.locator('#message-list .msg-body', { hasText: 'psst, cat' }).waitFor()
    expect(await cat.page.locator('#dm-list button').count()).toBe(1)
    // Nobody moderates a DM: no settings there.
    expect(await button(cat.page, 'Room settings').isVisible()).toBe(false)
  })

  it('a kick: the kicked person’s client loses the room at once and says why', async () => {
    const { page } = ann
    await rooms(page).getByRole('button', { name: 'Hideout Private', exact: true }).click()
    await button(page, 'Room settings').click()
    await addMember(page, 'cat')
    await rooms(cat.page).getByRole('button', { name: 'Hideout Private', exact: true }).click()
    await cat.page.getByRole('heading', { name: '#Hideout' }).waitFor()
    await button(page, 'Remove cat').click()
    await cat.page.locator('#notice-text', { hasText: 'You were removed from #Hideout.' }).waitFor()
    await rooms(cat.page).getByRole('button', { name: /Hideout/ }).waitFor({ state: 'detached' })
    await cat.page.getByRole('heading', { name: '#General' }).waitFor()
    await page.locator('#settings-members li', { hasText: 'cat' }).waitFor({ state: 'detached' })
    await button(page, 'Close').click()
  })

  it('archiving makes the room read-only for everyone in it (the composer gives way to a note)', async () => {
    const { page } = ann
    await rooms(ben.page).getByRole('button', { name: 'Hideout Private', exact: true }).click()
    await button(page, 'Room settings').click()
    await button(page, 'Archive room').click()
    await button(page, 'Unarchive room').waitFor()
    await button(page, 'Close').click()
    for (const p of [page, ben.page]) {
      await p.getByText('This room is archived', { exact: false }).waitFor()
      expect(await p.locator('#composer').isVisible()).toBe(false)
    }
  })
})
