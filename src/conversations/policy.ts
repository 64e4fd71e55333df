// Who may do what in a room: the contract's permission table (API.md "Moderation") in one place.
// Every route and frame handler asks here; nothing else compares roles. Pure functions over
// what the caller already loaded (the room's kind, the actor's and the target's roles), so the
// whole table is testable without a database.

export const ROLES = ['member', 'moderator', 'admin', 'owner'] as const
export type Role = typeof ROLES[number]
export type RoomKind = 'public' | 'private' | 'dm'

/** owner > admin > moderator > member. */
export const rank = (role: Role): number => ROLES.indexOf(role) + 1

/** What someone holds in a room, as stored: their membership role (null: not a member), ban, admin flag. */
export interface Standing {
  role: Role | null
  banned: boolean
  /** A server administrator (user.isAdmin). */
  isAdmin: boolean
}

/**
 * The role the policy uses: server administrators act as owners in public and private rooms
 * (never in a DM they are not part of); anyone not banned from a public room acts as a member.
 * null means no access at all: a private room or DM they are not in, or a room they are banned from.
 */
export function effectiveRole (kind: RoomKind, standing: Standing): Role | null {
  if (kind === 'dm') return standing.role === null ? null : 'member'
  if (standing.isAdmin) return 'owner'
  if (standing.banned) return null
  if (standing.role !== null) return standing.role
  return kind === 'public' ? 'member' : null
}

/** Actions on the room or on other people, with the least role each needs. */
const least = {
  /** delete someone else's message */
  deleteOthers: 'moderator',
  kick: 'moderator',
  pin: 'moderator',
  viewBans: 'moderator',
  /** see a message's earlier versions when not its author */
  viewOthersEdits: 'moderator',
  ban: 'admin',
  unban: 'admin',
  /** rename or change the topic */
  editRoom: 'admin',
  addMember: 'admin',
  readAudit: 'admin',
  archive: 'owner'
} as const satisfies Record<string, Role>

export type RoomAction = keyof typeof least

/** Actions that an archived room refuses with 403 room_archived (it stays readable). */
export const WRITES = new Set(['send', 'edit', 'react', 'pin'] as const)

/**
 * May someone holding `role` (their effective role) do `action` in a room of `kind`, to a person
 * holding `targetRole` (for actions on a person or their message; a public room's bystander is a
 * member)? Acting on another person needs a higher rank than theirs.
 */
export function can (kind: RoomKind, role: Role | null, action: RoomAction, targetRole?: Role | null): boolean {
  if (role === null) return false
  // A DM has no roles and nobody is added or removed; any participant may pin.
  if (kind === 'dm') return action === 'pin'
  if (rank(role) < rank(least[action])) return false
  if (targetRole === undefined) return true
  return rank(role) > rank(targetRole ?? 'member')
}

/**
 * May `role` give `targetRole`'s holder the role `to`? Admins make moderators (and members);
 * owners make admins and hand over ownership (the caller then becomes admin). Never to oneself,
 * never to someone of equal or higher rank, never in a DM.
 */
export function canSetRole (kind: RoomKind, role: Role | null, targetRole: Role | null, to: Role): boolean {
  if (role === null || kind === 'dm') return false
  if (rank(role) <= rank(targetRole ?? 'member')) return false
  if (to === 'owner' || to === 'admin') return role === 'owner'
  return rank(role) >= rank('admin')
}

/** May this member see the member list? In public rooms anyone who can read; in private rooms and DMs, members. */
export const canViewMembers = (role: Role | null): boolean => role !== null
