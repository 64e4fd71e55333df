// Stored rows that no key decrypts (tampered, corrupted, or written with a key no longer given):
// the history page still answers, the row comes back marked `unreadable`, the log names it once,
// and /api/health counts it. rotate-keys still names such a row.
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { createRotation, openExisting, UnreadableRowError } from '../../src/storage/maintenance.js'
import { bearer, makeTestConfig, registerUser, tempDir } from '../helper.js'
import { logSink, multipart, TINY_PDF } from './support.js'

const dir = tempDir()
const config = makeTestConfig({ LOG_LEVEL: 'warn' }, dir)
const sink = logSink()
let app: Awaited<ReturnType<typeof buildApp>>
let token: string
const ids: number[] = []
let mediaName = ''

/** Writes straight into the file, beside the running server (as a bad disk or an attacker would). */
function tamper (sql: string, ...params: unknown[]): void {
  const db = new Database(config.databasePath)
  try {
    db.pragma('busy_timeout = 5000')
    db.prepare(sql).run(...params)
  } finally {
    db.close()
  }
}

const get = async (url: string) => app.inject({ url, headers: bearer(token) })

beforeAll(async () => {
  app = await buildApp(config, { logStream: sink })
  await app.ready()
  token = (await registerUser(app)).token
  for (const body of ['one', 'two', 'three', 'four']) {
    const res = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body, clientId: `c-${body}` } })
    ids.push(res.json().message.id)
  }
  const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'secret-plans.pdf' }, { name: 'body', value: 'five' }])
  const up = await app.inject({ method: 'POST', url: '/api/rooms/1/uploads', headers: { ...bearer(token), ...form.headers }, payload: form.payload })
  expect(up.statusCode).toBe(201)
  ids.push(up.json().message.id)
  mediaName = String(up.json().message.attachment.url).replace('/media/', '')

  // "two": written with a key the server no longer has; "three": tampered bytes;
  // "five": its attachment token cut short; the upload's stored name: not a token at all.
  tamper('UPDATE messages SET body = ? WHERE id = ?', new Fernet(Fernet.generateKey()).encrypt('two'), ids[1])
  tamper("UPDATE messages SET body = substr(body, 1, 40) || 'AAAA' || substr(body, 45) WHERE id = ?", ids[2])
  tamper('UPDATE messages SET attachment = substr(attachment, 1, 60) WHERE id = ?', ids[4])
  tamper('UPDATE media SET original_name = ? WHERE name = ?', 'garbage', mediaName)
})
afterAll(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('a row no key decrypts', () => {
  it('leaves the page readable: 200, the row empty and marked, the others intact', async () => {
    const res = await get('/api/rooms/1/messages')
    expect(res.statusCode).toBe(200)
    const messages = res.json().messages as Array<Record<string, unknown>>
    expect(messages.map((m) => m.id)).toEqual(ids)
    expect(messages.map((m) => m.body)).toEqual(['one', '', '', 'four', ''])
    for (const i of [1, 2, 4]) expect(messages[i]).toMatchObject({ body: '', attachment: null, unreadable: true })
    for (const i of [0, 3]) expect(messages[i]).not.toHaveProperty('unreadable')
  })

  it('also in catch-up and older pages, and for a repeated clientId', async () => {
    const after = await get('/api/rooms/1/messages?after=0&limit=3')
    expect(after.statusCode).toBe(200)
    expect(after.json().messages.map((m: { unreadable?: boolean }) => m.unreadable === true)).toEqual([false, true, true])
    const before = await get(`/api/rooms/1/messages?before=${ids[3]}`)
    expect(before.statusCode).toBe(200)
    const retry = await app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(token), payload: { body: 'two', clientId: 'c-two' } })
    expect(retry.statusCode).toBe(200)
    expect(retry.json().message).toMatchObject({ id: ids[1], body: '', unreadable: true })
  })

  it('serves an upload whose stored name is unreadable under a neutral name', async () => {
    const res = await app.inject({ url: `/media/${mediaName}` })
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.equals(TINY_PDF)).toBe(true)
    expect(res.headers['content-disposition']).toContain('filename="file.pdf"')
  })

  it('is logged once per row however often it is read, and counted by /api/health', async () => {
    for (let i = 0; i < 3; i++) await get('/api/rooms/1/messages')
    const lines = sink.lines.filter((line) => line.includes('cannot be decrypted'))
    const named = (what: string) => lines.filter((line) => line.includes(`Stored ${what} `)).length
    expect(named(`message ${ids[1]}`)).toBe(1)
    expect(named(`message ${ids[2]}`)).toBe(1)
    expect(named(`message ${ids[4]}`)).toBe(1)
    expect(named(`upload ${mediaName}`)).toBe(1)
    expect(lines).toHaveLength(4)
    expect(sink.text()).not.toContain('secret-plans')
    const health = await app.inject({ url: '/api/health' })
    expect(health.statusCode).toBe(200)
    expect(health.json().unreadableRows).toBe(4)
  })

  it('is still named by rotate-keys', () => {
    const ring = new FernetRing(config.encryptionKeys)
    const db = openExisting(config.databasePath, ring)
    try {
      expect(() => createRotation(db, ring).messageBatch(0, 100)).toThrow(UnreadableRowError)
      expect(() => createRotation(db, ring).messageBatch(0, 100)).toThrow(`Message ${ids[1]}`)
    } finally {
      db.close()
    }
  })
})
