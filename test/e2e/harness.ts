// Shared pieces of the browser tests: the app on a real port, Chromium, and one "person"
// (browser context + page) per user, each collecting console errors and page errors.
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { deflateSync, crc32 } from 'node:zlib'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { expect } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { makeTestConfig, tempDir } from '../helper.js'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

/** The README's screenshots are refreshed with `UPDATE_SCREENSHOTS=1 npm test`; other runs keep theirs in a temp dir. */
export const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : tempDir('secure-chat-screens-')
export const PASSWORD = 'correct horse battery'

export function launchBrowser (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run']
  })
}

export interface Server {
  app: FastifyInstance
  /** e.g. http://127.0.0.1:41234 */
  url: string
  close: () => Promise<void>
}

/** The real app on a free port. `host` 0.0.0.0 makes it reachable by the machine's LAN address. `env`: settings for this server. */
export async function startServer (host = '127.0.0.1', urlHost = host, env: Record<string, string> = {}): Promise<Server> {
  const dir = tempDir('secure-chat-e2e-')
  const app = await buildApp(makeTestConfig({ HOST: host, ...env }, dir), { logger: false })
  await app.listen({ port: 0, host })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    app,
    url: `http://${urlHost}:${port}`,
    async close () {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A non-internal IPv4 address of this machine, if it has one. */
export function lanAddress (): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

export interface Person {
  name: string
  context: BrowserContext
  page: Page
  /** console errors and uncaught page errors seen so far */
  errors: string[]
  /** patterns of console errors this test provokes on purpose (e.g. a 401 from a wrong password) */
  expected: RegExp[]
}

export async function openPerson (browser: Browser, base: string, name: string,
  options: { width?: number, height?: number } = {}): Promise<Person> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    locale: 'en-US',
    timezoneId: 'UTC'
  })
  context.setDefaultTimeout(10_000) // fail with the locator's own message, well before the test's timeout
  const page = await context.newPage()
  const person: Person = { name, context, page, errors: [], expected: [] }
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    const text = `${msg.text()} ${msg.location().url}`
    if (!person.expected.some((re) => re.test(text))) person.errors.push(`console: ${text}`)
  })
  page.on('pageerror', (err) => person.errors.push(`pageerror: ${err.message}`))
  page.on('dialog', async (dialog) => {
    person.errors.push(`dialog opened: ${dialog.type()} ${dialog.message()}`)
    await dialog.dismiss()
  })
  return person
}

/** Register (or log in) through the form and wait until the chat is connected. */
export async function enter (person: Person, action: 'Register' | 'Log in' = 'Register'): Promise<void> {
  const { page } = person
  await page.goto('/')
  await page.getByLabel('Username').fill(person.name)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: action, exact: true }).click()
  await connected(page)
}

export async function connected (page: Page): Promise<void> {
  await page.locator('body[data-connection="online"]').waitFor()
}

/**
 * Poll a JS expression in the page until it is truthy. (page.waitForFunction with a string needs
 * 'unsafe-eval', which the page's CSP rightly forbids; page.evaluate goes through the debugger.)
 */
export async function waitUntil (page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${expression}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export function ensureScreenshotDir (): void {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
}

/** A real PNG (a small gradient), built by hand: signature, IHDR, IDAT, IEND. */
export function makePng (width = 48, height = 32): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'ascii')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // truecolour RGB
  const rows: number[] = []
  for (let y = 0; y < height; y++) {
    rows.push(0) // filter: none
    for (let x = 0; x < width; x++) rows.push(80 + Math.round((x / width) * 150), 70, 200 - Math.round((y / height) * 120))
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** After each test: nobody's page logged an error (patterns a test expected are for that test only). */
export function expectNoPageErrors (people: readonly Person[]): void {
  for (const p of people) {
    const errors = p.errors.splice(0)
    p.expected = []
    expect(errors, `${p.name}: console/page errors`).toEqual([])
  }
}
