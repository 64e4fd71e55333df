// Who may read a room, for every route and frame: the one gate in front of rooms. A private room
// or DM the caller may not read answers exactly as a missing room does (404 room_not_found), so
// its existence is not revealed; a public room they are banned from answers 403 `banned`.
// The decision itself is policy.effectiveRole; this module only loads what it needs.
import { AppError, errors } from '../errors.js'
import type { Room, Storage } from '../storage/index.js'
import { effectiveRole, type Role } from './policy.js'

export interface Caller {
  id: number
  isAdmin: boolean
}

export interface RoomAccess {
  room: Room
  /** The caller's effective role (policy.effectiveRole): never null here. */
  role: Role
  /** Their stored membership role (null: not a member; an administrator or a public room's bystander). */
  memberRole: Role | null
}

/**
 * The room and the caller's effective role in it. Throws room_not_found (404) for a missing room
 * and for a private room or DM the caller may not read, `banned` (403) for a public room they are
 * banned from.
 */
export async function roomAccess (storage: Storage, user: Caller, roomId: number): Promise<RoomAccess> {
  const found = await storage.rooms.access(roomId, user.id)
  if (found === null) throw errors.roomNotFound()
  const { room, standing } = found
  const role = effectiveRole(room.kind, { ...standing, isAdmin: user.isAdmin })
  if (role === null) {
    if (room.kind === 'public' && standing.banned) throw errors.banned()
    throw errors.roomNotFound()
  }
  return { room, role, memberRole: standing.role }
}

/** The ids of every room the user may read (the rooms GET /api/rooms lists). */
export async function readableRoomIds (storage: Storage, user: Caller): Promise<number[]> {
  return await storage.rooms.readableIds(user.id, user.isAdmin)
}

/** Writes (send, upload, edit, react, pin) refuse an archived room: 403 room_archived. It stays readable. */
export function assertWritable (room: Room): void {
  if (room.archived) throw errors.roomArchived()
}

/** roomAccess, then assertWritable: the gate for every write to a room. */
export async function writableRoom (storage: Storage, user: Caller, roomId: number): Promise<RoomAccess> {
  const access = await roomAccess(storage, user, roomId)
  assertWritable(access.room)
  return access
}

/** True for the refusals roomAccess throws (for callers that answer them in their own way, like frames). */
export const isAccessRefusal = (error: unknown): error is AppError =>
  error instanceof AppError && (error.code === 'room_not_found' || error.code === 'banned' || error.code === 'room_archived')
