// MP3 sniffing: two bytes (`\xff\xfb`) are not an audio stream. Real minimal MP3s (consecutive
// MPEG frames, with and without an ID3 tag) are built here; so are the impostors.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/storage/index.js'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'
import { id3Tag, makeMp3, mediaFiles, mp3Frame, upload } from './helpers.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

describe('MP3 uploads', () => {
  it.each([
    ['frames only', makeMp3(4, false)],
    ['an ID3 tag, then frames', makeMp3(4, true)],
    ['two ID3 tags, then frames', Buffer.concat([id3Tag('one'), makeMp3(3, true)])]
  ])('a real stream passes: %s', async (_, bytes) => {
    const res = await upload(t.app, token, { bytes, filename: 'tone.mp3' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json<{ message: Message }>().message.attachment).toMatchObject({ mime: 'audio/mpeg', kind: 'audio', name: 'tone.mp3' })
  })

  const exe = Buffer.concat([Buffer.from('MZ'), randomBytes(4000)])
  it.each([
    ['\\xff\\xfb then a program', Buffer.concat([Buffer.from([0xff, 0xfb]), exe])],
    ['one valid frame header, then junk', Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), exe])],
    ['two frames, then junk', Buffer.concat([mp3Frame(), mp3Frame(), exe])],
    ['an ID3 tag, then junk', Buffer.concat([id3Tag(), Buffer.from([0xff, 0xfb, 0x90, 0x64]), exe])],
    ['an ID3 header claiming more bytes than the file has', Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f]), exe])]
  ])('an impostor is refused (415) and nothing is stored: %s', async (_, bytes) => {
    const before = mediaFiles(t.config.mediaDir)
    const res = await upload(t.app, token, { bytes, filename: 'setup.exe' })
    expect(res.statusCode, res.body).toBe(415)
    expect(res.json().error.code).toBe('unsupported_media_type')
    expect(mediaFiles(t.config.mediaDir)).toEqual(before)
  })
})
