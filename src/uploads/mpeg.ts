// MPEG audio (MP3, and MP1/MP2, which file-type also calls audio/mpeg) checked frame by frame.
// file-type's answer rests on two bytes (`\xff\xfb`), so any file can pass as audio by starting
// with them; a real stream is frame after frame, each header saying where the next one starts.
// @see http://www.mp3-tech.org/programmer/frame_header.html
import { open } from 'node:fs/promises'

/** Consecutive valid frames required: about 80 ms of audio; chance cannot line up three headers. */
export const MIN_FRAMES = 3
/** The longest frame (MPEG-1 layer III, 320 kbit/s at 32 kHz, padded) is 2881 bytes. */
const WINDOW = MIN_FRAMES * 2881 + 4

// kbit/s by [version 1 or 2][layer 1–3][index 1–14]; MPEG-2.5 uses MPEG-2's.
const BITRATES: readonly number[][][] = [
  [
    [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
  ],
  [
    [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
  ]
]
/** Hz by version bits (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1) and index 0–2. */
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = { 0: [11025, 12000, 8000], 2: [22050, 24000, 16000], 3: [44100, 48000, 32000] }

interface Frame { length: number, kind: number }

/** The frame header at `at`, or null when those 4 bytes are not one. Free-format streams are refused. */
export function frameAt (bytes: Buffer, at: number): Frame | null {
  if (at + 4 > bytes.length || bytes[at] !== 0xff || (bytes[at + 1]! & 0xe0) !== 0xe0) return null
  const b1 = bytes[at + 1]!
  const b2 = bytes[at + 2]!
  const version = (b1 >> 3) & 3
  const layer = 4 - ((b1 >> 1) & 3) // 1, 2, 3 (4 is reserved)
  const bitrateIndex = b2 >> 4
  const rateIndex = (b2 >> 2) & 3
  if (version === 1 || layer === 4 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3 || (bytes[at + 3]! & 3) === 2) return null
  const bitrate = BITRATES[version === 3 ? 0 : 1]![layer - 1]![bitrateIndex - 1]! * 1000
  const rate = SAMPLE_RATES[version]![rateIndex]!
  const padding = (b2 >> 1) & 1
  let length: number
  if (layer === 1) length = (Math.floor(12 * bitrate / rate) + padding) * 4
  else if (layer === 3 && version !== 3) length = Math.floor(72 * bitrate / rate) + padding
  else length = Math.floor(144 * bitrate / rate) + padding
  // Version, layer and sample rate stay the same through a stream.
  return { length, kind: (b1 & 0xfe) | (rateIndex << 8) }
}

/** The size of the ID3v2 tag that `head` starts (header and footer included), or 0 when it starts none. */
function id3Size (head: Buffer): number {
  if (head.length < 10 || head.toString('latin1', 0, 3) !== 'ID3') return 0
  const size = ((head[6]! & 0x7f) << 21) | ((head[7]! & 0x7f) << 14) | ((head[8]! & 0x7f) << 7) | (head[9]! & 0x7f)
  return 10 + size + ((head[5]! & 0x10) !== 0 ? 10 : 0)
}

/** True when the file holds MIN_FRAMES consecutive MPEG audio frames, right after its ID3v2 tags (if any). */
export async function isMpegAudio (path: string): Promise<boolean> {
  const file = await open(path, 'r')
  try {
    let offset = 0
    const head = Buffer.alloc(10)
    for (let tags = 0; tags < 4; tags++) { // a file may carry more than one tag
      const { bytesRead } = await file.read(head, 0, 10, offset)
      const size = id3Size(head.subarray(0, bytesRead))
      if (size === 0) break
      offset += size
    }
    const window = Buffer.alloc(WINDOW)
    const { bytesRead } = await file.read(window, 0, WINDOW, offset)
    const bytes = window.subarray(0, bytesRead)
    let at = 0
    let kind: number | undefined
    for (let n = 0; n < MIN_FRAMES; n++) {
      const frame = frameAt(bytes, at)
      if (frame === null || (kind !== undefined && frame.kind !== kind)) return false
      kind = frame.kind
      at += frame.length
    }
    return true
  } finally {
    await file.close()
  }
}
