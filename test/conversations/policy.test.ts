// The permission table of API.md "Moderation", walked whole: every action × every role × every
// target rank, against an independent statement of the rules.
import { describe, expect, it } from 'vitest'
import { can, canSetRole, effectiveRole, ROLES, type Role, type RoomAction, type RoomKind } from '../../src/conversations/policy.js'

const level: Record<Role, number> = { member: 1, moderator: 2, admin: 3, owner: 4 }
const needs: Record<RoomAction, Role> = {
  deleteOthers: 'moderator', kick: 'moderator', pin: 'moderator', viewBans: 'moderator', viewOthersEdits: 'moderator',
  ban: 'admin', unban: 'admin', editRoom: 'admin', addMember: 'admin', readAudit: 'admin', archive: 'owner'
}
const actions = Object.keys(needs) as RoomAction[]
const targets: Array<Role | undefined> = [undefined, ...ROLES]

describe('effective role', () => {
  it('server administrators own public and private rooms, not DMs they are not in', () => {
    expect(effectiveRole('public', { role: null, banned: false, isAdmin: true })).toBe('owner')
    expect(effectiveRole('private', { role: null, banned: false, isAdmin: true })).toBe('owner')
    expect(effectiveRole('dm', { role: null, banned: false, isAdmin: true })).toBeNull()
    expect(effectiveRole('dm', { role: 'member', banned: false, isAdmin: true })).toBe('member')
  })
  it('a public room is everyone’s but the banned; a private room only its members’', () => {
    expect(effectiveRole('public', { role: null, banned: false, isAdmin: false })).toBe('member')
    expect(effectiveRole('public', { role: null, banned: true, isAdmin: false })).toBeNull()
    expect(effectiveRole('private', { role: null, banned: false, isAdmin: false })).toBeNull()
    expect(effectiveRole('private', { role: 'moderator', banned: false, isAdmin: false })).toBe('moderator')
  })
})

describe.each(['public', 'private'] as RoomKind[])('in a %s room', (kind) => {
  for (const action of actions) {
    for (const role of ROLES) {
      for (const target of targets) {
        const expected = level[role] >= level[needs[action]] && (target === undefined || level[role] > level[target])
        it(`${role} ${expected ? 'may' : 'may not'} ${action}${target === undefined ? '' : ` a ${target}`}`, () => {
          expect(can(kind, role, action, target)).toBe(expected)
        })
      }
    }
    it(`nobody without access may ${action}`, () => expect(can(kind, null, action)).toBe(false))
  }

  for (const role of ROLES) {
    for (const target of ROLES) {
      for (const to of ROLES) {
        const outranks = level[role] > level[target]
        const expected = outranks && ((to === 'owner' || to === 'admin') ? role === 'owner' : level[role] >= level.admin)
        it(`${role} ${expected ? 'may' : 'may not'} make a ${target} ${to}`, () => {
          expect(canSetRole(kind, role, target, to)).toBe(expected)
        })
      }
    }
  }
})

describe('in a DM', () => {
  it('any participant may pin, and nobody may moderate', () => {
    for (const action of actions) expect(can('dm', 'member', action)).toBe(action === 'pin')
    for (const to of ROLES) expect(canSetRole('dm', 'owner', 'member', to)).toBe(false)
  })
})
