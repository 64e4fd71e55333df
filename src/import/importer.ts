// `npm run import`: the original Python app's users, rooms, history and files into this server.
// First every message is decrypted with the original's key (nothing is written when one fails),
// then users, rooms and messages are written in that order, messages in batches of one
// transaction each. What came from where is remembered, so a second run adds only what is new.
import { randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { FernetRing } from '../crypto/fernet.js'
import type { ImportedMessage, ImportedRoom, ImportedUser, ImportsStore } from '../storage/imports.js'
import { MaintenanceError } from '../storage/maintenance.js'
import type { OriginalDatabase, OriginalMessage } from '../storage/original.js'
import { roomNameKey } from '../text/names.js'
import { ImageGate } from '../uploads/gate.js'
import { IMAGE_LIMITS } from '../uploads/images.js'
import { importFile, removeStored } from './files.js'
import { chooseRoomName, chooseUsername, importTopic, isAllowedRoomName, roomNameBase } from './names.js'
import { importTime } from './times.js'

export interface ImportReport {
  users: { imported: number, already: number, renamed: Array<{ from: string, to: string }>, newPasswordNeeded: string[] }
  rooms: { created: number, already: number, merged: string[], renamed: Array<{ from: string, to: string }> }
  messages: { imported: number, already: number, skipped: Array<{ id: number, reason: string }> }
  files: { imported: number, missing: Array<{ message: number, path: string }>, refused: Array<{ message: number, path: string, reason: string }> }
}

export interface ImportOptions {
  original: OriginalDatabase
  /** The original's key(s): `.fernet_key`, its ENCRYPTION_KEY, or --key-file. */
  originalKeys: FernetRing
  /** The original's media folder. */
  mediaFrom: string
  imports: ImportsStore
  /** This server's MEDIA_DIR. */
  mediaDir: string
  batchSize?: number
  onProgress?: (done: number, total: number) => void
}

const PAGE = 1000
// bcrypt as the original wrote it ($2b$, cost 12): bcryptjs reads $2a$/$2b$/$2y$ alike.
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/
/** Bodies the original wrote itself for an upload: the file's name, not something a person said. */
const GENERATED = /^(?:Image|Video|File): (.+)$/s
const UPLOAD_TYPES = new Set(['IMAGE', 'VIDEO', 'FILE'])

/** Throws MaintenanceError, before anything is written, when the key does not read every message. */
export function checkOriginalKey (original: OriginalDatabase, keys: FernetRing): number {
  let bad = 0
  let first: number | null = null
  let total = 0
  for (let after = 0; ;) {
    const page = original.tokensAfter(after, PAGE * 5)
    if (page.length === 0) break
    for (const [id, token] of page) {
      total++
      if (token === null) continue
      try {
        keys.decrypt(token)
      } catch {
        bad++
        first ??= id
      }
    }
    after = page.at(-1)![0]
  }
  if (bad === total && bad > 0) {
    throw new MaintenanceError('The key does not read the original\'s messages: give the key the original app used (its .fernet_key, or ENCRYPTION_KEY in its .env) with --key-file. Nothing was imported.')
  }
  if (bad > 0) {
    throw new MaintenanceError(`${bad} of ${total} messages of the original do not decrypt with its key (the first: message ${first}). Nothing was imported.`)
  }
  return total
}

/** Call checkOriginalKey first: this writes as it goes. */
export async function runImport (options: ImportOptions): Promise<ImportReport> {
  const { original, originalKeys, imports } = options
  const report: ImportReport = {
    users: { imported: 0, already: 0, renamed: [], newPasswordNeeded: [] },
    rooms: { created: 0, already: 0, merged: [], renamed: [] },
    messages: { imported: 0, already: 0, skipped: [] },
    files: { imported: 0, missing: [], refused: [] }
  }
  const source = original.sourceId()
  const now = new Date().toISOString()

  // Users, in the original's id order: ours are given in the same order.
  const users = await imports.imported(source, 'user')
  report.users.already = users.size
  const taken = new Set((await imports.usernames()).map((name) => name.toLowerCase()))
  const names = new Map<number, string>()
  const newUsers: ImportedUser[] = []
  for (const user of original.users()) {
    if (users.has(user.id)) continue
    const username = chooseUsername(user.username, user.id, taken)
    if (username !== user.username) report.users.renamed.push({ from: user.username, to: username })
    let passwordHash = user.passwordHash
    if (!BCRYPT.test(passwordHash)) {
      // Not a hash we can check: the account comes over, but no password opens it.
      passwordHash = bcrypt.hashSync(randomBytes(32).toString('hex'), 4)
      report.users.newPasswordNeeded.push(username)
    }
    newUsers.push({ sourceId: user.id, username, passwordHash, createdAt: importTime(user.createdAt) ?? now })
    names.set(user.id, username)
  }
  for (let i = 0; i < newUsers.length; i += PAGE) {
    const chunk = newUsers.slice(i, i + PAGE)
    const ids = await imports.addUsers(source, chunk)
    chunk.forEach((u, j) => users.set(u.sourceId, ids[j]!))
  }
  report.users.imported = newUsers.length

  // Rooms: one whose name is one of ours (by our comparison key) is merged into ours.
  const rooms = await imports.imported(source, 'room')
  report.rooms.already = rooms.size
  const ours = new Map<string, number>()
  for (const room of await imports.roomKeys()) if (!ours.has(room.key)) ours.set(room.key, room.id)
  const roomKeys = new Set(ours.keys())
  const newRooms: ImportedRoom[] = []
  for (const room of original.rooms()) {
    if (rooms.has(room.id)) continue
    const existing = ours.get(roomNameKey(room.name))
    if (isAllowedRoomName(room.name) && existing !== undefined) {
      newRooms.push({ sourceId: room.id, mergeInto: existing })
      report.rooms.merged.push(room.name)
      ours.delete(roomNameKey(room.name)) // a second original room of that name is not merged too
      continue
    }
    const name = chooseRoomName(isAllowedRoomName(room.name) ? room.name : roomNameBase(room.name, room.id), roomKeys)
    if (name !== room.name) report.rooms.renamed.push({ from: room.name, to: name })
    newRooms.push({ sourceId: room.id, name, topic: importTopic(room.topic), createdAt: importTime(room.createdAt) ?? now })
    report.rooms.created++
  }
  const roomIds = await imports.addRooms(source, newRooms)
  newRooms.forEach((r, i) => rooms.set(r.sourceId, roomIds[i]!))

  // Messages, in the original's order, a batch per transaction.
  const done = await imports.imported(source, 'message')
  const total = Math.max(0, original.messageCount() - done.size)
  const images = new ImageGate(IMAGE_LIMITS)
  const batchSize = options.batchSize ?? 2000
  let progress = 0
  options.onProgress?.(0, total)
  for (let after = 0; ;) {
    const page = original.messagesAfter(after, batchSize)
    if (page.length === 0) break
    after = page.at(-1)!.id
    const batch: ImportedMessage[] = []
    const placed: string[] = []
    try {
      for (const m of page) {
        if (done.has(m.id)) {
          report.messages.already++
          continue
        }
        progress++
        // Only uploads wait for anything: text messages take no trip through the event loop.
        const item = isUpload(m) ? await convertUpload(m) : convert(m)
        if (item === null) continue
        placed.push(...item.files.map((f) => f.name))
        batch.push(item)
      }
      if (batch.length > 0) await imports.addMessages(source, batch)
    } catch (error) {
      await removeStored(options.mediaDir, placed) // the rows never came: neither do the files
      throw error
    }
    report.messages.imported += batch.length
    report.files.imported += batch.filter((item) => item.files.length > 0).length
    options.onProgress?.(progress, total)
  }
  return report

  function convert (m: OriginalMessage): ImportedMessage | null {
    const userId = m.userId === null ? undefined : users.get(m.userId)
    const roomId = m.roomId === null ? undefined : rooms.get(m.roomId)
    if (userId === undefined || roomId === undefined) {
      report.messages.skipped.push({ id: m.id, reason: userId === undefined ? 'its author is not in the original\'s users' : 'its room is not in the original\'s rooms' })
      return null
    }
    const text = m.token === null ? '' : originalKeys.decryptText(m.token)
    return { sourceId: m.id, message: { roomId, author: { id: userId, username: names.get(m.userId!) ?? '' }, body: text, createdAt: importTime(m.createdAt) ?? now }, files: [] }
  }

  async function convertUpload (m: OriginalMessage & { filePath: string }): Promise<ImportedMessage | null> {
    const item = convert(m)
    if (item === null) return null
    const text = item.message.body
    const generated = GENERATED.exec(text)?.[1]
    const name = generated ?? m.filePath.slice(m.filePath.lastIndexOf('/') + 1)
    const outcome = await importFile({ mediaFrom: options.mediaFrom, url: m.filePath, name, uploaderId: item.message.author.id, dir: options.mediaDir, images })
    if (!outcome.ok) {
      // The message stays, with the text the original showed for it.
      if (outcome.missing) report.files.missing.push({ message: m.id, path: m.filePath })
      else report.files.refused.push({ message: m.id, path: m.filePath, reason: outcome.reason })
      return item
    }
    return { ...item, message: { ...item.message, body: generated === undefined ? text : '', attachment: outcome.attachment }, files: outcome.records }
  }
}

const isUpload = (m: OriginalMessage): m is OriginalMessage & { filePath: string } =>
  UPLOAD_TYPES.has(m.type) && m.filePath !== null && m.filePath !== ''
