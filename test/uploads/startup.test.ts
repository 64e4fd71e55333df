// Files left by a crash mid-upload are removed when the server starts.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildTestApp, registerUser, tempDir } from '../helper.js'
import { makePdf, upload } from './helpers.js'

it('removes orphan temp files at start and keeps everything else', async () => {
  const dir = tempDir()
  const media = join(dir, 'media')
  mkdirSync(media)
  writeFileSync(join(media, '.tmp-0123456789abcdef0123456789abcdef'), 'half an upload')
  writeFileSync(join(media, '.gitkeep'), '')
  const t = await buildTestApp({}, dir)
  try {
    expect(existsSync(join(media, '.tmp-0123456789abcdef0123456789abcdef'))).toBe(false)
    expect(existsSync(join(media, '.gitkeep'))).toBe(true)
  } finally {
    await t.close()
  }
})

it('removes stored files that no media row knows (moved into place, then a crash), and keeps known ones', async () => {
  const dir = tempDir()
  const media = join(dir, 'media')
  const first = await buildTestApp({}, dir)
  const user = await registerUser(first.app)
  const res = await upload(first.app, user.token, { bytes: makePdf(), filename: 'kept.pdf' })
  expect(res.statusCode).toBe(201)
  const kept = (res.json().message.attachment.url as string).replace('/media/', '')
  await first.app.close() // keep the directory
  writeFileSync(join(media, 'ffffffffffffffffffffffffffffffff.pdf'), 'renamed, then the process died')
  const second = await buildTestApp({ ENCRYPTION_KEY: first.config.encryptionKeys[0]!, DATABASE_URL: first.databaseUrl }, dir)
  try {
    expect(existsSync(join(media, 'ffffffffffffffffffffffffffffffff.pdf'))).toBe(false)
    expect(existsSync(join(media, kept))).toBe(true)
  } finally {
    await second.close()
    await first.dropDatabase()
  }
})
