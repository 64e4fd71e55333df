// A full disk while an image is written is the server's problem (507), not a bad image (415).
// /dev/full is a real device whose every write fails with ENOSPC.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { ImageGate } from '../../src/uploads/gate.js'
import { IMAGE_LIMITS, processImage } from '../../src/uploads/images.js'
import { tempDir } from '../helper.js'
import { makeGif, makePng } from './helpers.js'
import { available } from '../requirements.js'

describe.skipIf(!available('/dev/full', existsSync('/dev/full')))('an image written to a full disk', () => {
  it.each([
    ['PNG (re-encoded by sharp)', 'image/png', 'p.png', () => makePng(300, 200)],
    ['GIF (rewritten by us)', 'image/gif', 'g.gif', makeGif]
  ])('%s: 507 insufficient_storage', async (_, mime, name, make) => {
    const dir = tempDir()
    const src = join(dir, name)
    writeFileSync(src, await make())
    const error = await processImage(new ImageGate(IMAGE_LIMITS), 1, new AbortController().signal,
      { src, dest: '/dev/full', thumb: join(dir, 'thumb.webp') }, mime).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ statusCode: 507, code: 'insufficient_storage' })
  })
})
