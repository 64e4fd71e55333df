// Who may see a room, as an Audience for its frames: everyone for a public room; a private
// room's members and the server administrators; a DM's participants only.
import type { Audience } from '../events.js'
import type { Room, Storage } from '../storage/index.js'

export async function roomAudience (storage: Storage, room: Room): Promise<Audience> {
  if (room.kind === 'public') return { everyone: true }
  if (room.kind === 'dm' && room.members !== undefined) return { userIds: room.members.map((m) => m.id) }
  return { userIds: await storage.members.userIds(room.id), admins: room.kind === 'private' }
}

/** Member frames: the sockets that have the room open, the person concerned, and (private rooms) every member. */
export async function memberAudience (storage: Storage, room: Room, userId: number): Promise<Audience> {
  if (room.kind === 'public') return { roomId: room.id, userIds: [userId] }
  const audience = await roomAudience(storage, room)
  return { ...audience, roomId: room.id, userIds: [...(audience.userIds ?? []), userId] }
}
