// The "Room settings" button and dialog, and the read-only state of archived rooms. What the
// dialog offers follows the caller's role (room.myRole), using the same rank rules as the server
// (src/conversations/policy.ts); the server decides in the end, and its refusals are shown.

import { ApiError } from '../api.js'
import { byId, h } from '../lib/dom.js'

/** @typedef {import('../types.js').Member} Member */
/** @typedef {import('../types.js').Room} Room */

const RANK = { member: 1, moderator: 2, admin: 3, owner: 4 }
/** @typedef {keyof typeof RANK} Role */
const ROLES = /** @type {Role[]} */ (['member', 'moderator', 'admin', 'owner'])
/** @param {string | null | undefined} role */
const rank = (role) => (role && role in RANK ? RANK[/** @type {Role} */ (role)] : 0)

/**
 * @param {{ store: import('../store.js').Store, api: import('../api.js').Api, me: import('../types.js').Author }} deps
 */
export function createRoomSettingsView ({ store, api, me }) {
  const open = byId('room-settings-button', HTMLButtonElement)
  const dialog = byId('room-settings', HTMLDialogElement)
  const form = byId('room-settings-form', HTMLFormElement)
  const nameInput = byId('settings-name', HTMLInputElement)
  const topicInput = byId('settings-topic', HTMLInputElement)
  const save = byId('settings-save', HTMLButtonElement)
  const members = byId('settings-members', HTMLUListElement)
  const addBox = byId('add-member-box', HTMLDivElement)
  const addInput = byId('add-member-input', HTMLInputElement)
  const error = byId('settings-error', HTMLParagraphElement)
  const archive = byId('archive-room', HTMLButtonElement)
  const leave = byId('leave-room', HTMLButtonElement)
  const auditButton = byId('audit-log-button', HTMLButtonElement)
  const audit = byId('audit-log', HTMLOListElement)
  const composer = byId('composer', HTMLFormElement)
  const archivedNote = byId('archived-note', HTMLParagraphElement)

  const current = () => {
    const id = store.state.currentRoomId
    return id === null ? undefined : store.state.rooms.get(id)?.room
  }

  /** Who gets the button: anyone who can see the members of a private room, moderators and up elsewhere; nobody in a DM. @param {Room} room */
  const allowed = (room) => room.kind !== 'dm' && (room.kind === 'private' || rank(room.myRole) >= RANK.moderator)

  function sync () {
    const room = current()
    open.hidden = !room || !allowed(room)
    const archived = room?.archived === true
    composer.hidden = archived
    archivedNote.hidden = !archived
    if (dialog.open && (!room || !allowed(room))) dialog.close()
  }

  /** @param {unknown} err */
  const fail = (err) => { error.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err) }

  /** @param {Room} room @param {Member} member */
  function memberRow (room, member) {
    const mine = rank(room.myRole)
    const theirs = rank(member.role)
    const self = member.user.id === me.id
    const outranks = !self && mine > theirs
    const item = h('li', { class: 'member' }, h('span', { class: 'member-name' }, member.user.username))
    // The roles I may give: admins make moderators and members, owners anything (owner hands over).
    const givable = ROLES.filter((r) => r === member.role || (outranks && (r === 'owner' || r === 'admin' ? mine === RANK.owner : mine >= RANK.admin)))
    if (givable.length > 1) {
      const select = h('select', { 'aria-label': `Role of ${member.user.username}` },
        givable.map((r) => h('option', { value: r, selected: r === member.role }, r)))
      select.addEventListener('change', async () => {
        error.textContent = ''
        if (select.value === 'owner' && !confirm(`Hand ownership of this room to ${member.user.username}? You become an admin.`)) {
          select.value = member.role
          return
        }
        try {
          await api.setRole(room.id, member.user.id, select.value)
          await loadMembers()
        } catch (err) { fail(err); select.value = member.role }
      })
      item.append(select)
    } else {
      item.append(h('span', { class: 'member-role muted small' }, member.role))
    }
    if (outranks && mine >= RANK.moderator) {
      item.append(h('button', {
        type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${member.user.username}`,
        onclick: async () => { try { await api.removeMember(room.id, member.user.id); await loadMembers() } catch (err) { fail(err) } }
      }, 'Remove'))
    }
    if (outranks && mine >= RANK.admin) {
      item.append(h('button', {
        type: 'button', class: 'btn btn-small', 'aria-label': `Ban ${member.user.username}`,
        onclick: async () => {
          if (!confirm(`Ban ${member.user.username} from this room?`)) return
          try { await api.ban(room.id, member.user.id); await loadMembers() } catch (err) { fail(err) }
        }
      }, 'Ban'))
    }
    return item
  }

  async function loadMembers () {
    const room = current()
    if (!room || !dialog.open) return
    try {
      const list = await api.members(room.id)
      members.replaceChildren(...list.map((m) => memberRow(room, m)))
      if (list.length === 0) members.append(h('li', { class: 'muted small' }, 'Nobody holds a role here yet.'))
    } catch (err) { fail(err) }
  }

  async function loadAudit () {
    const room = current()
    if (!room) return
    try {
      const entries = await api.audit(room.id)
      audit.replaceChildren(...entries.map((e) => h('li', {},
        h('time', { datetime: e.at }, new Date(e.at).toLocaleString()), ' ',
        `${e.actor.username}: ${e.action.replace('_', ' ')}${e.target ? ` ${e.target.username}` : ''}${e.reason ? ` (${e.reason})` : ''}`)))
      if (entries.length === 0) audit.append(h('li', { class: 'muted' }, 'Nothing yet.'))
    } catch (err) { fail(err) }
  }

  open.addEventListener('click', () => {
    const room = current()
    if (!room) return
    const mine = rank(room.myRole)
    error.textContent = ''
    nameInput.value = room.name
    topicInput.value = room.topic
    for (const el of [nameInput, topicInput, save]) el.disabled = mine < RANK.admin
    addBox.hidden = mine < RANK.admin || room.kind === 'public'
    archive.hidden = mine < RANK.owner
    archive.textContent = room.archived ? 'Unarchive room' : 'Archive room'
    leave.hidden = room.kind !== 'private'
    auditButton.hidden = mine < RANK.admin
    auditButton.setAttribute('aria-expanded', 'false')
    audit.hidden = true
    members.replaceChildren()
    dialog.showModal()
    void loadMembers()
  })

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const room = current()
    if (!room) return
    error.textContent = ''
    try {
      await api.updateRoom(room.id, { name: nameInput.value.trim(), topic: topicInput.value.trim() })
    } catch (err) { fail(err) }
  })

  byId('add-member-button', HTMLButtonElement).addEventListener('click', async () => {
    const room = current()
    const name = addInput.value.trim()
    if (!room || !name) return
    error.textContent = ''
    try {
      const found = (await api.findPeople(name)).find((u) => u.username.toLowerCase() === name.toLowerCase())
      if (!found) return fail(new Error(`Nobody is called ${name}.`))
      await api.addMember(room.id, found.id)
      addInput.value = ''
      await loadMembers()
    } catch (err) { fail(err) }
  })

  archive.addEventListener('click', async () => {
    const room = current()
    if (!room) return
    try {
      const updated = await api.updateRoom(room.id, { archived: !room.archived })
      archive.textContent = updated.archived ? 'Unarchive room' : 'Archive room'
    } catch (err) { fail(err) }
  })

  leave.addEventListener('click', async () => {
    const room = current()
    if (!room || !confirm('Leave this room? You will need to be added again to come back.')) return
    try {
      await api.removeMember(room.id, me.id)
      dialog.close()
    } catch (err) { fail(err) }
  })

  auditButton.addEventListener('click', () => {
    const show = audit.hidden
    audit.hidden = !show
    auditButton.setAttribute('aria-expanded', String(show))
    if (show) void loadAudit()
  })

  byId('room-settings-close', HTMLButtonElement).addEventListener('click', () => dialog.close())
  store.on('current', sync)
  store.on('rooms', sync)
  store.on('members', (roomId) => { if (roomId === store.state.currentRoomId) void loadMembers() })
  return { sync }
}
