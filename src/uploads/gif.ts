// GIF metadata removal without re-encoding (which would re-quantise colours and hurt animations):
// the file is rewritten block by block, keeping only what draws the picture — the screen and colour
// tables, the frames, their graphic control (delay, transparency) and the loop count. Comments,
// plain-text blocks and every other application extension (XMP, which may hold a GPS position;
// ICC profiles; vendor data) are dropped, and so is anything after the trailer.
// @see https://www.w3.org/Graphics/GIF/spec-gif89a.txt
// @see https://github.com/adobe/XMP-Toolkit-SDK/blob/main/docs/XMPSpecificationPart3.pdf (XMP in GIF)

export class GifError extends Error {}

/** Application extensions that animation needs (the loop count). */
const KEPT_APPLICATIONS = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0'])

const TRAILER = 0x3b
const EXTENSION = 0x21
const IMAGE = 0x2c
const GRAPHIC_CONTROL = 0xf9
const APPLICATION = 0xff

/** The GIF in `bytes` without its metadata. Throws GifError when the structure is broken. */
export function stripGifMetadata (bytes: Buffer): Buffer {
  const header = bytes.toString('latin1', 0, 6)
  if (bytes.length < 13 || (header !== 'GIF87a' && header !== 'GIF89a')) throw new GifError('not a GIF')
  const out: Buffer[] = []
  let at = 13 + colourTableSize(bytes[10]!)
  need(bytes, at)
  out.push(bytes.subarray(0, at))
  /** A graphic control block waits for the block it controls: dropped with a dropped one. */
  let control: Buffer | null = null

  while (at < bytes.length) {
    const start = at
    const introducer = bytes[at]!
    if (introducer === TRAILER) break
    if (introducer === IMAGE) {
      need(bytes, at + 10)
      at += 10 + colourTableSize(bytes[at + 9]!)
      at = skipSubBlocks(bytes, at + 1) // after the LZW minimum code size
      if (control !== null) out.push(control)
      control = null
      out.push(bytes.subarray(start, at))
    } else if (introducer === EXTENSION) {
      need(bytes, at + 2)
      const label = bytes[at + 1]!
      at = skipSubBlocks(bytes, at + 2)
      const block = bytes.subarray(start, at)
      if (label === GRAPHIC_CONTROL) control = block
      else if (label === APPLICATION && KEPT_APPLICATIONS.has(block.toString('latin1', 3, 14)) && block[2] === 11) out.push(block)
      else if (label === 0x01) control = null // plain text: dropped, with its graphic control
    } else {
      throw new GifError(`unknown block 0x${introducer.toString(16)}`)
    }
  }
  out.push(Buffer.from([TRAILER]))
  return Buffer.concat(out)
}

/** Bytes of the colour table that a packed field announces (0 when it has none). */
const colourTableSize = (packed: number): number => (packed & 0x80) === 0 ? 0 : 3 * (2 << (packed & 7))

function need (bytes: Buffer, end: number): void {
  if (end > bytes.length) throw new GifError('cut short')
}

/** The offset after a run of data sub-blocks (each a length byte and that many bytes, then a 0). */
function skipSubBlocks (bytes: Buffer, at: number): number {
  for (;;) {
    need(bytes, at + 1)
    const size = bytes[at]!
    at += 1 + size
    if (size === 0) return at
  }
}
