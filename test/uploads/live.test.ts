// Against a real listening server: a client that disconnects mid-upload leaves nothing behind, and
// a WebSocket subscriber receives the attachment message.
import { once } from 'node:events'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { buildTestApp, countRows, registerUser, type TestApp } from '../helper.js'
import { makePdf, makePng, mediaFiles } from './helpers.js'

let t: TestApp
let token: string
let base: string

beforeAll(async () => {
  t = await buildTestApp({ MAX_UPLOAD_MB: '4' })
  token = (await registerUser(t.app)).token
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  base = `127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
})
afterAll(async () => t.close())

async function waitFor (check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await delay(20)
  }
}

const rowCount = async (table: string): Promise<number> => countRows(t.config, table)

describe('a client that disconnects mid-upload', () => {
  it('leaves no temp file, no row and no message', async () => {
    const before = { files: mediaFiles(t.config.mediaDir), messages: await rowCount('messages'), media: await rowCount('media') }
    const boundary = 'xAbortBoundary'
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\nhalf\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.pdf"\r\nContent-Type: application/pdf\r\n\r\n`)
    const req = request({
      host: '127.0.0.1', port: Number(base.split(':')[1]), method: 'POST', path: '/api/rooms/1/uploads',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + 3 * 1024 * 1024) }
    })
    req.on('error', () => {}) // the socket is destroyed on purpose
    req.write(head)
    req.write(makePdf())
    req.write(Buffer.alloc(512 * 1024, 0x20))
    // The upload is being streamed to disk…
    await waitFor(() => mediaFiles(t.config.mediaDir).some((name) => name.startsWith('.tmp-')), 'the temp file')
    req.destroy()
    // …and once the server notices the disconnect, it is gone.
    await waitFor(() => mediaFiles(t.config.mediaDir).length === before.files.length, 'the temp file to be removed')
    expect(mediaFiles(t.config.mediaDir)).toEqual(before.files)
    expect({ files: mediaFiles(t.config.mediaDir), messages: await rowCount('messages'), media: await rowCount('media') }).toEqual(before)
    // The server is fine afterwards.
    expect((await fetch(`http://${base}/api/health`)).status).toBe(200)
  })
})

describe('a room subscriber', () => {
  it('receives the message with its attachment over the WebSocket', async () => {
    // Never skipped: without /ws there is no live delivery, and that is a failure.
    expect(t.app.hasRoute({ method: 'GET', url: '/ws' })).toBe(true)
    const listener = await registerUser(t.app)
    const ws = new WebSocket(`ws://${base}/ws?token=${listener.token}`)
    const frames: Array<Record<string, unknown>> = []
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>))
    try {
      await once(ws, 'open')
      ws.send(JSON.stringify({ type: 'join', roomId: 1 }))
      await waitFor(() => frames.some((f) => f.type === 'joined'), 'joined')

      const form = new FormData()
      form.append('body', 'Look!')
      form.append('file', new Blob([await makePng(640, 480)], { type: 'image/png' }), 'photo.png')
      const res = await fetch(`http://${base}/api/rooms/1/uploads`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(201)
      const { message } = await res.json() as { message: { attachment: { url: string, thumbnailUrl: string } } }
      expect(message.attachment).toMatchObject({ name: 'photo.png', kind: 'image', mime: 'image/png' })

      await waitFor(() => frames.some((f) => f.type === 'message'), 'the message frame')
      expect(frames.find((f) => f.type === 'message')).toEqual({ type: 'message', message })

      // What the page does next: show the thumbnail, open the image.
      for (const url of [message.attachment.thumbnailUrl, message.attachment.url]) {
        const media = await fetch(`http://${base}${url}`)
        expect(media.status).toBe(200)
        expect(media.headers.get('content-disposition')).toMatch(/^inline; /)
      }
    } finally {
      ws.close()
    }
  })
})

describe('an upload over MAX_UPLOAD_MB', () => {
  it('is answered 413 as soon as the limit is crossed, without waiting for the rest of the body', async () => {
    const before = mediaFiles(t.config.mediaDir)
    const boundary = 'xBigBoundary'
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n`)
    const req = request({
      host: '127.0.0.1', port: Number(base.split(':')[1]), method: 'POST', path: '/api/rooms/1/uploads',
      // No Content-Length: the size is only known while streaming.
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' }
    })
    req.on('error', () => {})
    const response = once(req, 'response')
    req.write(head)
    req.write(makePdf())
    for (let i = 0; i < 5; i++) req.write(Buffer.alloc(1024 * 1024, 0x20)) // 5 MiB of a 4 MiB limit, and never ended
    const [res] = await response as [import('node:http').IncomingMessage]
    let text = ''
    for await (const chunk of res) text += String(chunk)
    expect(res.statusCode).toBe(413)
    expect(JSON.parse(text).error.code).toBe('payload_too_large')
    req.destroy()
    await waitFor(() => mediaFiles(t.config.mediaDir).length === before.length, 'the temp file to be removed')
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })
})
