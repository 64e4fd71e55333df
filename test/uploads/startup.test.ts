// Temp files left by a crash mid-upload are removed when the server starts.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildTestApp, tempDir } from '../helper.js'

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
