// Client unit tests of the message lifecycle: the real browser modules (store, history, chat)
// against a fake REST API and socket. An edit, a delete and a reaction made while the socket was
// down reach the timeline through changes?since=; an older copy never replaces a newer one.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createStore } from '../../public/js/store.js'
import { createChat } from '../../public/js/chat.js'
import type { ChangesPage, Message, Page, PageQuery, Room, User } from '../../public/js/types.js'

const ME: User = { id: 1, username: 'me', createdAt: '2024-01-01T00:00:00.000Z', isAdmin: false }
const BOB = { id: 2, username: 'bob' }
const ROOM: Room = { id: 1, name: 'General', topic: '', createdBy: null, createdAt: '2024-01-01T00:00:00.000Z', lastSeq: 0, kind: 'public', archived: false }
const settled = () => new Promise((resolve) => setTimeout(resolve, 0))

/** A tiny server room: sends and changes each take the next seq, as the real one does. */
function fakeRoom () {
  const all: Message[] = []
  let seq = 0
  return {
    all,
    send (id: number): Message {
      const m: Message = { id, roomId: ROOM.id, author: BOB, body: `m${id}`, attachment: null, clientId: null, createdAt: new Date(id * 1000).toISOString(), seq: ++seq, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null }
      all.push(m)
      return m
    },
    change (id: number, patch: Partial<Message>): Message {
      const at = all.findIndex((m) => m.id === id)
      const next = { ...all[at], ...patch, seq: ++seq } as Message
      all[at] = next
      return next
    },
    page ({ before, after, limit = 50 }: PageQuery): Page {
      const sorted = [...all].sort((a, b) => a.id - b.id)
      if (after !== undefined) {
        const rest = sorted.filter((m) => m.id > after)
        return { messages: rest.slice(0, limit), hasMore: rest.length > limit }
      }
      const older = sorted.filter((m) => before === undefined || m.id < before)
      return { messages: older.slice(-limit), hasMore: older.length > limit }
    },
    changes (since: number, limit: number): ChangesPage {
      const rest = all.filter((m) => m.seq > since).sort((a, b) => a.seq - b.seq)
      return { messages: rest.slice(0, limit), lastSeq: seq, hasMore: rest.length > limit }
    }
  }
}

describe('lifecycle in the client store', () => {
  beforeEach(() => {
    const items = new Map<string, string>()
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => { items.set(key, value) },
      removeItem: (key: string) => { items.delete(key) }
    })
  })
  afterEach(() => { vi.unstubAllGlobals() })

  it('changes missed while offline are applied on reconnect, paged, and stale frames are ignored', async () => {
    const server = fakeRoom()
    for (let id = 1; id <= 5; id++) server.send(id)
    let open = false
    const since: number[] = []
    const notices: string[] = []
    const store = createStore()
    const chat = createChat({
      store,
      session: { token: 't', expiresAt: '2999-01-01T00:00:00.000Z', user: ME },
      onLiveMessage: () => {},
      onNotice: (text) => { notices.push(text) },
      api: {
        async rooms () { return [{ ...ROOM, unreadCount: 0, lastReadId: 0 }] },
        async messages (_roomId, query = {}) { return server.page(query) },
        async changes (_roomId, from, _limit) {
          since.push(from)
          return server.changes(from, 2) // tiny pages, so paging is exercised
        }
      },
      socket: { start () {}, stop () {}, send () { return open } }
    })
    const ready = async () => {
      open = true
      chat.onFrame({ type: 'ready', user: ME })
      await settled()
      chat.onFrame({ type: 'joined', roomId: ROOM.id, online: [] })
      await settled()
    }

    await chat.start()
    await ready()
    const rs = store.state.rooms.get(ROOM.id)
    if (!rs?.messages) throw new Error('room not loaded')
    // Live while joined: an edit applies; the same frame again, or an older copy, changes nothing.
    const edited = server.change(2, { body: 'two, edited', editedAt: '2024-01-02T00:00:00.000Z' })
    chat.onFrame({ type: 'message_updated', message: edited })
    expect(rs.messages.get(2)?.body).toBe('two, edited')
    chat.onFrame({ type: 'message', message: { ...edited, body: 'm2', editedAt: null, seq: 2 } })
    expect(rs.messages.get(2)?.body).toBe('two, edited')
    expect(rs.syncedSeq).toBe(edited.seq)

    // Offline: bob edits, deletes, reacts and posts; none of it arrives as a frame.
    open = false
    chat.onDisconnected()
    server.change(1, { body: 'one, edited', editedAt: '2024-01-02T00:00:00.000Z' })
    server.change(3, { body: '', deletedAt: '2024-01-02T00:00:00.000Z' })
    server.change(4, { reactions: [{ emoji: '👍', count: 1, userIds: [BOB.id] }] })
    server.send(6)
    since.length = 0
    await ready()

    const current = new Map(server.all.map((m) => [m.id, m]))
    expect([...rs.messages.values()].sort((a, b) => a.id - b.id)).toEqual([...current.values()].sort((a, b) => a.id - b.id))
    expect(since[0]).toBe(edited.seq) // from where the client was in sync, paged on from there
    expect(since.length).toBeGreaterThan(1)
    expect(rs.syncedSeq).toBe(Math.max(...server.all.map((m) => m.seq)))
    expect(notices).toEqual([])
  })
})
