// Once the message that shares a file has committed, the file is that message's: a failure after
// the commit (marking the rows as linked) must not delete the file the message points to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { makePdf, upload } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp({ DATABASE_LOCK_WAIT_SECONDS: '0.2' })
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

describe('after the message commits', () => {
  it('a failed link keeps the files: 201, and the attachment answers', async () => {
    const media = t.app.storage.media
    const link = media.link
    // The database refuses the link as if another program held its lock for longer than the wait.
    media.link = () => { throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }) }
    let res
    try {
      res = await upload(t.app, token, { bytes: makePdf(), filename: 'kept.pdf' })
    } finally {
      media.link = link
    }
    expect(res.statusCode, res.body).toBe(201)
    const { message } = res.json<{ message: Message }>()
    const file = await t.app.inject({ method: 'GET', url: message.attachment!.url })
    expect(file.statusCode).toBe(200)
    const history = await t.app.inject({ method: 'GET', url: '/api/rooms/1/messages', headers: { authorization: `Bearer ${token}` } })
    expect(history.json<{ messages: Message[] }>().messages.at(-1)?.attachment?.url).toBe(message.attachment!.url)
  })
})
