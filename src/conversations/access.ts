// Who may read which room. STAND-IN: every room is readable by everyone, as a member. The
// conversations branch (private rooms, memberships) replaces this file with the real rules, same
// signatures; search (src/search) authorizes through these two functions only.
import { errors } from '../errors.js'
import type { Room, Storage } from '../storage/index.js'
import type { Role } from './policy.js'

export interface Reader {
  id: number
  isAdmin: boolean
}

/** The room and the caller's role in it; 404 room_not_found for a room the caller may not read. */
export async function roomAccess (storage: Storage, user: Reader, roomId: number): Promise<{ room: Room, role: Role }> {
  void user
  const room = await storage.rooms.get(roomId)
  if (room === null) throw errors.roomNotFound()
  return { room, role: 'member' }
}

/** Every room the caller may read. */
export async function readableRoomIds (storage: Storage, user: Reader): Promise<number[]> {
  void user
  return (await storage.rooms.list()).map((room) => room.id)
}
