// Ill-formed and deceptive text, from outside: lone surrogates are refused wherever text comes in
// (REST, socket, multipart), look-alike and invisible room names are refused or collide, and a
// body of invisible characters is empty. Each time the database holds nothing new.
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, registerUser, uniqueName } from '../helper.js'
import { connect, listeningApp, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'
import { multipart, snapshot, TINY_PDF } from './support.js'

let t: ListeningApp
let token: string
let sock: TestSocket

beforeAll(async () => {
  t = await listeningApp()
  token = (await registerUser(t.app)).token
  sock = await connect(t.base, token)
  expect((await sock.request({ type: 'join', roomId: 1 }, 'joined')).roomId).toBe(1)
})
afterAll(async () => {
  await sock?.close()
  await t.close()
})

const LONE = 'ab\ud800'

async function post (url: string, payload: unknown, auth = true) {
  return t.app.inject({ method: 'POST', url, payload: payload as object, headers: auth ? bearer(token) : {} })
}

function expectRefused (res: { statusCode: number, json: () => any }, field: RegExp): void {
  expect(res.statusCode).toBe(400)
  const body = res.json()
  expect(body.error.code).toBe('validation_failed')
  expect(JSON.stringify(body.error)).toMatch(field)
}

describe('lone surrogates are refused wherever text enters', () => {
  it('REST: register, login, room name and topic, message body and clientId', async () => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    expectRefused(await post('/api/auth/register', { username: uniqueName(), password: `password${LONE}` }, false), /well-formed/)
    expectRefused(await post('/api/auth/register', { username: `x${LONE}yz`, password: 'password123' }, false), /username/)
    expectRefused(await post('/api/auth/login', { username: `x${LONE}`, password: 'password123' }, false), /well-formed/)
    expectRefused(await post('/api/auth/login', { username: 'someone', password: `password${LONE}` }, false), /well-formed/)
    expectRefused(await post('/api/rooms', { name: `Room ${LONE}` }), /well-formed/)
    expectRefused(await post('/api/rooms', { name: 'Fine room', topic: `topic ${LONE}` }), /well-formed/)
    expectRefused(await post('/api/rooms/1/messages', { body: `hello ${LONE}` }), /well-formed/)
    expectRefused(await post('/api/rooms/1/messages', { body: '\udc00' }), /well-formed/)
    expectRefused(await post('/api/rooms/1/messages', { body: 'hello', clientId: `c-${LONE}` }), /well-formed/)
    expect(snapshot(t.config.databasePath)).toEqual(before)
  })

  it('socket: a message frame with a lone surrogate in body or clientId gets validation_failed', async () => {
    // Messages sent above reach the search index a moment after their ack: written now, not during the check.
    await t.app.liveIndex?.settled()
    const before = snapshot(t.config.databasePath)
    // JSON escapes: the frame itself is valid UTF-8, the string it decodes to is not well-formed.
    const bad = await sock.request(`{"type":"message","roomId":1,"body":"hi \\ud800 there","clientId":"c-ok-1"}`, 'error')
    expect(bad).toMatchObject({ code: 'validation_failed', clientId: 'c-ok-1' })
    const badId = await sock.request(`{"type":"message","roomId":1,"body":"hi","clientId":"c-\\udfff"}`, 'error')
    expect(badId.code).toBe('validation_failed')
    expect(badId.clientId).toBeUndefined() // never echoed back ill-formed
    expect(snapshot(t.config.databasePath)).toEqual(before)
    // The socket stays usable.
    expect((await sock.request({ type: 'message', roomId: 1, body: 'still fine', clientId: 'c-ok-2' }, 'ack')).message.body).toBe('still fine')
  })

  it('every text column holds valid UTF-8 (Python\'s sqlite3 can read every table)', async () => {
    const db = new Database(t.config.databasePath, { readonly: true })
    const strict = new TextDecoder('utf-8', { fatal: true })
    try {
      const columns: Array<[string, string]> = [['rooms', 'name'], ['rooms', 'topic'], ['users', 'username'], ['messages', 'client_id']]
      for (const [table, column] of columns) {
        for (const bytes of db.prepare(`SELECT CAST(${column} AS BLOB) FROM ${table} WHERE ${column} IS NOT NULL`).pluck().all() as Buffer[]) {
          expect(() => strict.decode(bytes), `${table}.${column}`).not.toThrow()
        }
      }
    } finally {
      db.close()
    }
  })
})

describe('room names that look like another', () => {
  it('are the same room as General (409) or refused (400)', async () => {
    for (const name of ['Gen\u200beral', 'Ｇｅｎｅｒａｌ', 'Ge\u0301neral', 'GENERAL', 'Général', '\u2060General']) {
      const res = await post('/api/rooms', { name })
      expect(res.statusCode, JSON.stringify(name)).toBe(409)
      expect(res.json().error.code).toBe('room_exists')
    }
    expectRefused(await post('/api/rooms', { name: 'G\u0435neral' }), /mix/) // Cyrillic е
    expectRefused(await post('/api/rooms', { name: '\u202eGeneral' }), /bidirectional/)
    expectRefused(await post('/api/rooms', { name: '\u200b\u200b' }), /visible/)
    expectRefused(await post('/api/rooms', { name: '\u3164' }), /visible/)
  })

  it('a room made of one script still cannot take a look-alike name later', async () => {
    const first = await post('/api/rooms', { name: 'Coe' })
    expect(first.statusCode).toBe(201)
    const twin = await post('/api/rooms', { name: 'Сое' }) // Cyrillic С, о, е
    expect(twin.statusCode).toBe(409)
    const list = (await t.app.inject({ url: '/api/rooms', headers: bearer(token) })).json().rooms as Array<{ name: string }>
    expect(list.filter((r) => r.name === 'General' || r.name === 'Coe')).toHaveLength(2)
  })
})

describe('bodies of invisible characters are empty', () => {
  it('REST and socket refuse them; with a file they make an empty caption', async () => {
    const invisible = '\u200b\u2060 \ufeff\u3164'
    expectRefused(await post('/api/rooms/1/messages', { body: invisible }), /empty/)
    const frame = await sock.request({ type: 'message', roomId: 1, body: invisible, clientId: 'c-inv' }, 'error')
    expect(frame).toMatchObject({ code: 'validation_failed', clientId: 'c-inv' })

    const form = multipart([{ name: 'file', value: TINY_PDF, filename: 'plans.pdf' }, { name: 'body', value: invisible }])
    const up = await t.app.inject({ method: 'POST', url: '/api/rooms/1/uploads', headers: { ...bearer(token), ...form.headers }, payload: form.payload })
    expect(up.statusCode).toBe(201)
    expect(up.json().message.body).toBe('')
  })

  it('visible text with invisible characters inside is kept as sent', async () => {
    const res = await post('/api/rooms/1/messages', { body: 'a\u200bb 👨‍👩‍👧' })
    expect(res.statusCode).toBe(201)
    expect(res.json().message.body).toBe('a\u200bb 👨‍👩‍👧')
  })
})
