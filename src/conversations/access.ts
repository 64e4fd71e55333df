// STAND-IN, replaced by the conversations branch (issue 13), which owns memberships, roles, bans
// and private rooms. Until then every existing room is readable by everyone, as a member. The
// lifecycle code depends on these two signatures only.
import { errors } from '../errors.js'
import type { Room, Storage } from '../storage/index.js'
import { effectiveRole, type Role } from './policy.js'

export interface Actor { id: number, isAdmin: boolean }

/** The room and the caller's effective role in it; throws 404 room_not_found (403 banned once bans exist). */
export async function roomAccess (storage: Storage, user: Actor, roomId: number): Promise<{ room: Room, role: Role }> {
  const room = await storage.rooms.get(roomId)
  if (room === null) throw errors.roomNotFound()
  // Every room is public here: a member, or an owner for a server administrator (policy.ts).
  return { room, role: effectiveRole('public', { role: null, banned: false, isAdmin: user.isAdmin }) ?? 'member' }
}

/** Ids of every room the user may read. */
export async function readableRoomIds (storage: Storage, user: Actor): Promise<number[]> {
  void user
  return (await storage.rooms.list()).map((room) => room.id)
}
