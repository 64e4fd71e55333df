// Reading the multipart request: the file part is streamed to a temp file in MEDIA_DIR (never held
// in memory) with the size limit enforced as it arrives; the optional `body` (caption) and
// `clientId` parts may come before or after it. On any failure the temp file is gone before this
// throws, also when the client disconnects mid-upload.
import type { FastifyRequest } from 'fastify'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { AppError, errors } from '../errors.js'
import { ClientId, MessageBody } from '../messages/schemas.js'
import { tempName } from './names.js'

export interface Received {
  /** The temp file holding the bytes, in MEDIA_DIR. The caller removes it. */
  path: string
  size: number
  /** The name the client gave, raw: clean it before use. */
  filename: string
  caption: string
  clientId: string | null
}

export const tooLarge = (maxBytes: number) =>
  errors.payloadTooLarge(`The file is too large: at most ${Math.floor(maxBytes / (1024 * 1024))} MB.`)

/** The busboy limits: one file, and small fields (only `body` and `clientId` exist). */
export const multipartLimits = (maxBytes: number) =>
  ({ fileSize: maxBytes, files: 1, fields: 2, parts: 3, fieldNameSize: 100, fieldSize: 32 * 1024, headerPairs: 20 })

/** @fastify/multipart's and busboy's errors, in our words. Disk errors stay server errors. */
function asUploadError (error: unknown, maxBytes: number): unknown {
  if (error instanceof AppError) return error
  const code = (error as { code?: unknown }).code
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE': return tooLarge(maxBytes)
    case 'FST_FILES_LIMIT': return errors.payloadTooLarge('Send one file per upload.')
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT': return errors.payloadTooLarge('Too many parts: send one `file` part and, optionally, a `body` caption.')
    case 'FST_MP_PREMATURE_CLOSE': return errors.validation('The upload was cut short.')
    case 'ENOSPC':
    case 'EDQUOT': return new AppError('insufficient_storage')
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return error // a file-system error: 500, logged
  return errors.validation('The multipart body is malformed.')
}

function fieldValue (name: string, value: unknown, truncated: boolean): string {
  if (typeof value !== 'string' || truncated) {
    throw errors.validation(`Invalid ${name}: ${name === 'body' ? 'must be at most 4000 characters' : 'is too long'}`)
  }
  return value
}

export async function receiveUpload (request: FastifyRequest, dir: string, maxBytes: number): Promise<Received> {
  let file: { path: string, size: number, filename: string } | undefined
  let temp: string | undefined
  let caption = ''
  let clientId: string | null = null
  try {
    for await (const part of request.parts({ limits: multipartLimits(maxBytes) })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume()
          throw errors.validation(`Unexpected file part "${part.fieldname.slice(0, 40)}": send the file as the \`file\` part.`)
        }
        temp = join(dir, tempName())
        const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 }) // private files: owner only
        // Stop at the limit rather than read (and discard) the rest of the part.
        part.file.once('limit', () => out.destroy(tooLarge(maxBytes)))
        await pipeline(part.file, out)
        if (part.file.truncated) throw tooLarge(maxBytes)
        file = { path: temp, size: out.bytesWritten, filename: part.filename }
      } else if (part.fieldname === 'body') {
        const parsed = MessageBody.safeParse(fieldValue('body', part.value, part.valueTruncated))
        if (!parsed.success) throw errors.validation(`Invalid body: ${parsed.error.issues[0]?.message ?? 'is not valid'}`)
        caption = parsed.data
      } else if (part.fieldname === 'clientId') {
        const parsed = ClientId.safeParse(fieldValue('clientId', part.value, part.valueTruncated))
        if (!parsed.success) throw errors.validation('Invalid clientId: must be 1 to 64 characters')
        clientId = parsed.data
      } else if (part.fieldname === 'file') {
        throw errors.validation('The `file` part has no file name: send it as a file (curl -F file=@photo.jpg).')
      } else {
        throw errors.validation(`Unexpected part "${part.fieldname.slice(0, 40)}": send \`file\` and, optionally, \`body\`.`)
      }
    }
  } catch (error) {
    if (temp !== undefined) await rm(temp, { force: true })
    throw asUploadError(error, maxBytes)
  }
  if (file === undefined) throw errors.validation('No file: send it as a multipart part named `file` (curl -F file=@photo.jpg).')
  return { ...file, caption, clientId }
}
