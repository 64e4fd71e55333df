// Media sharing: POST /api/rooms/:roomId/uploads stores a file and posts it as a message
// (GET /media/:name, in serve.ts, serves it). Registers
// @fastify/multipart for this plugin only. Stored files and their `media` rows are created only
// once an upload is complete and checked; temp files left by a crash are removed at start.
// @see https://github.com/fastify/fastify-multipart
import fastifyMultipart from '@fastify/multipart'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { mkdirSync } from 'node:fs'
import { readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { writableRoom } from '../conversations/access.js'
import { errors } from '../errors.js'
import { ClientId } from '../messages/schemas.js'
import { whenUnlocked } from '../storage/index.js'
import { checkPlace, explain, type Place } from '../storage/problems.js'
import { authErrors, ErrorResponse, MessageSchema, RoomParams } from '../schemas.js'
import { Abandoned, ImageGate } from './gate.js'
import { IMAGE_LIMITS } from './images.js'
import { ensureMediaDir, isFolderError, mediaUnavailable } from './media-dir.js'
import { STORED_NAME, TEMP_PREFIX } from './names.js'
import { prepareUpload, type PreparedUpload } from './prepare.js'
import { multipartLimits, receiveUpload, tooLarge } from './receive.js'
import serveMedia from './serve.js'

/** Multipart framing, headers and the caption on top of the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024

const UploadResponse = z.object({ message: MessageSchema })

/** The parts receive.ts reads, for the OpenAPI document (a file input in Swagger UI). */
const uploadParts = (maxBytes: number) => z.object({
  file: z.file().describe(`The file, at most ${Math.floor(maxBytes / (1024 * 1024))} MB; its type is taken from its bytes`),
  body: z.string().max(4000).optional().describe('A caption, 0–4000 characters'),
  clientId: ClientId.optional().describe('Makes a retry safe: the same clientId gets the first message back')
})

const uploads: FastifyPluginAsyncZod = async (app) => {
  const { storage, messageService, config } = app
  const dir = config.mediaDir
  const place: Place = { what: 'the media folder', setting: 'MEDIA_DIR', kind: 'folder' }
  try {
    // Checked now: an unwritable folder would otherwise show only when the first upload fails.
    checkPlace(dir, place)
    // 0700 only for folders we create: one the operator made keeps its mode.
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw explain(error, dir, place)
  }
  // Uploads cut short by a crash or a restart: temp files, and files moved into place whose rows
  // were never written (no message can point at those: the message comes after the rows).
  for (const entry of await readdir(dir)) {
    const orphan = entry.startsWith(TEMP_PREFIX) || (STORED_NAME.test(entry) && !await storage.media.exists(entry))
    if (orphan) await rm(join(dir, entry), { force: true })
  }

  await app.register(fastifyMultipart, { limits: multipartLimits(config.maxUploadBytes) })
  const images = new ImageGate(IMAGE_LIMITS)

  // Bytes of uploads still on their way to the media table, per user: parallel uploads all count,
  // so together they cannot pass the quota.
  const inFlight = new Map<number, number>()
  // The stored bytes are read first; the in-flight ones are read with the check (and the hold).
  const overQuota = (userId: number, stored: number, adding: number): void => {
    const used = stored + (inFlight.get(userId) ?? 0)
    if (config.uploadQuotaBytes > 0 && used + adding > config.uploadQuotaBytes) {
      throw errors.payloadTooLarge(`You have used your upload space (${Math.floor(config.uploadQuotaBytes / (1024 * 1024))} MB).`)
    }
  }
  // Bumped whenever a hold is released. An upload whose rows commit and whose hold is released
  // while another upload's usage read is on its way would be counted neither stored nor in flight;
  // a read that saw a release happen is read again.
  const releases = new Map<number, number>()
  const storedUsage = async (userId: number): Promise<number> => {
    for (;;) {
      const before = releases.get(userId)
      const stored = await storage.media.usage(userId)
      if (releases.get(userId) === before) return stored
    }
  }
  const checkQuota = async (userId: number, adding: number): Promise<void> => {
    overQuota(userId, await storedUsage(userId), adding)
  }
  /** Checks and holds `bytes` of the user's quota until release() (check and hold in one synchronous step: no upload slips in between). */
  const reserve = async (userId: number, bytes: number): Promise<() => void> => {
    overQuota(userId, await storedUsage(userId), bytes)
    inFlight.set(userId, (inFlight.get(userId) ?? 0) + bytes)
    let held = true
    return () => {
      if (!held) return
      held = false
      const left = (inFlight.get(userId) ?? 0) - bytes
      if (left > 0) inFlight.set(userId, left)
      else inFlight.delete(userId)
      releases.set(userId, (releases.get(userId) ?? 0) + 1)
    }
  }

  /** Refuses what can be refused before a byte of the body is read. */
  async function precheck (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // The body is left unread: close the connection after answering instead of draining it.
    reply.header('connection', 'close')
    if (!/^multipart\/form-data\s*;/i.test(request.headers['content-type'] ?? '')) {
      throw errors.unsupportedMediaType('Send the file as multipart/form-data (curl -F file=@photo.jpg).')
    }
    const length = Number(request.headers['content-length'])
    if (length > config.maxUploadBytes + MULTIPART_OVERHEAD) throw tooLarge(config.maxUploadBytes)
    reply.removeHeader('connection')
  }

  app.post('/api/rooms/:roomId/uploads', {
    onRequest: [app.authenticate, precheck],
    schema: {
      tags: ['uploads'],
      summary: 'Share a file: multipart with one `file` part and an optional `body` caption (and `clientId`)',
      consumes: ['multipart/form-data'],
      multipart: uploadParts(config.maxUploadBytes),
      params: RoomParams,
      response: { 200: UploadResponse, 201: UploadResponse, 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse, 507: ErrorResponse, ...authErrors }
    }
  }, async (request, reply) => {
    const { roomId } = request.params
    const user = request.user
    try {
      await writableRoom(storage, user, roomId)
      await checkQuota(user.id, 0)
      await ensureMediaDir(dir)
      // Answered only once the temp files are gone.
      const { status, message } = await store(request, reply, roomId, user).catch((error: unknown) => {
        throw isFolderError(error) ? mediaUnavailable() : error // the folder went away mid-upload
      })
      return reply.code(status).send({ message })
    } catch (error) {
      // The rest of the body may be unread (a refused caption, a file too large): don't drain it.
      if (!request.raw.complete) reply.header('connection', 'close')
      throw error
    }
  })

  async function store (request: FastifyRequest, reply: FastifyReply, roomId: number, user: { id: number, username: string }) {
    const temps: string[] = []
    const stored: string[] = []
    let release = (): void => {}
    try {
      const upload = await receiveUpload(request, dir, config.maxUploadBytes)
      temps.push(upload.path)
      if (upload.size === 0) throw errors.validation('The file is empty.')
      // A client that has gone (closed the tab, cancelled) frees its place in the image queue.
      const gone = new AbortController()
      const onClose = (): void => { if (!reply.raw.writableEnded) gone.abort() }
      reply.raw.once('close', onClose)
      // Gone while the file was still being received: its 'close' has been already.
      if (reply.raw.destroyed) onClose()
      let prepared: PreparedUpload
      try {
        prepared = await prepareUpload({ dir, src: upload.path, filename: upload.filename, uploaderId: user.id, images, signal: gone.signal, temps })
      } catch (error) {
        if (error instanceof Abandoned) throw errors.validation('The upload was abandoned: the client went away.')
        throw error
      } finally {
        reply.raw.off('close', onClose)
      }
      const { files, attachment } = prepared
      release = await reserve(user.id, files.reduce((sum, f) => sum + f.record.size, 0))

      // Into place only now, then the rows: a row never points at a missing or partial file.
      for (const f of files) {
        await rename(f.temp, join(dir, f.record.name))
        stored.push(f.record.name)
      }
      await whenUnlocked(() => storage.media.add(files.map((f) => ({ ...f.record, roomId }))), config.lockWaitMs)
      release() // the rows count from now on

      const { message, created } = await messageService.send({
        roomId, author: { id: user.id, username: user.username }, body: upload.caption, attachment, clientId: upload.clientId
      })
      if (!created) { // a retry with the same clientId: the first upload stands
        await discard(stored)
        return { status: 200 as const, message }
      }
      // The message is committed: its files are its own now and must stay whatever happens next.
      const committed = stored.splice(0)
      try {
        await whenUnlocked(() => storage.media.link(message.id, committed), config.lockWaitMs)
      } catch (error) {
        // The rows stay unlinked (as for an upload made before links existed); the files are kept.
        request.log.warn({ err: error, messageId: message.id }, 'upload committed, but its media rows could not be linked to the message')
      }
      return { status: 201 as const, message }
    } catch (error) {
      await discard(stored)
      throw error
    } finally {
      release()
      await Promise.all(temps.map((path) => rm(path, { force: true })))
    }
  }

  async function discard (names: string[]): Promise<void> {
    await whenUnlocked(() => storage.media.remove(names), config.lockWaitMs)
    await Promise.all(names.map((name) => rm(join(dir, name), { force: true })))
    names.length = 0
  }

  await app.register(serveMedia)
}

export default uploads
