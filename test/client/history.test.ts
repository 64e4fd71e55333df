// Client unit tests: the real browser modules (store, history, chat) against a fake REST API and
// a fake socket, so the races behind three reviewed bugs can be replayed deterministically.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createStore } from '../../public/js/store.js'
import { createHistory } from '../../public/js/history.js'
import { createChat } from '../../public/js/chat.js'
import type { ChangesPage, Frame, Message, Page, PageQuery, Room, User } from '../../public/js/types.js'

const ME: User = { id: 1, username: 'me', createdAt: '2024-01-01T00:00:00.000Z', isAdmin: false }
const BOB = { id: 2, username: 'bob' }
const ROOM: Room = { id: 1, name: 'General', topic: '', createdBy: null, createdAt: '2024-01-01T00:00:00.000Z', lastSeq: 0, kind: 'public', archived: false }

const message = (id: number, roomId = ROOM.id): Message => ({
  id, roomId, author: BOB, body: `m${id}`, attachment: null, clientId: null, createdAt: new Date(id * 1000).toISOString(), seq: id, editedAt: null, deletedAt: null, replyTo: null, reactions: [], mentions: [], pinned: null
})

/** Pages of one room the way the server answers GET /api/rooms/:id/messages (oldest first). */
function page (all: Message[], { before, after, limit = 50 }: PageQuery): Page {
  if (after !== undefined) {
    const rest = all.filter((m) => m.id > after)
    return { messages: rest.slice(0, limit), hasMore: rest.length > limit }
  }
  const older = all.filter((m) => before === undefined || m.id < before)
  return { messages: older.slice(-limit), hasMore: older.length > limit }
}

/** GET /api/rooms/:id/changes?since= over the same messages: those whose seq is newer, in seq order. */
function changes (all: Message[], since: number, limit: number): ChangesPage {
  const rest = all.filter((m) => m.seq > since).sort((a, b) => a.seq - b.seq)
  return { messages: rest.slice(0, limit), lastSeq: all.reduce((max, m) => Math.max(max, m.seq), 0), hasMore: rest.length > limit }
}

const ids = (map: Map<number, Message> | null) => [...(map?.keys() ?? [])].sort((a, b) => a - b)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
/** Let every pending promise of the fakes (which answer at once) run to the end. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('history catch-up', () => {
  it('a live message arriving mid-catch-up does not move the cursor past the rest of the gap', async () => {
    const store = createStore()
    store.state.me = ME
    const rs = store.upsertRoom(ROOM)
    // The server holds 1..260; the client held 1..100 when the connection dropped.
    const server = range(1, 260).map((id) => message(id))
    rs.messages = new Map(server.slice(0, 100).map((m) => [m.id, m]))
    rs.syncedId = 100
    const asked: PageQuery[] = []
    const history = createHistory({
      store,
      meId: ME.id,
      settle: () => {},
      isJoined: () => true,
      api: {
        async changes (_roomId, since, limit) { return changes(server, since, limit) },
        async messages (_roomId, query = {}) {
          asked.push(query)
          const answer = page(server, query)
          // While the first catch-up page is in flight, 261 arrives live over the socket.
          if (query.after === 100) {
            server.push(message(261))
            history.merge(rs, [message(261)])
          }
          return answer
        }
      }
    })

    await history.refresh(ROOM.id)

    expect(ids(rs.messages)).toEqual(range(1, 261))
    expect(asked.map((q) => q.after)).toEqual([100, 200]) // pages 101-200, then 201-261 and done
  })

  it('a message posted into an empty room while its first page loads is shown', async () => {
    const store = createStore()
    store.state.me = ME
    const rs = store.upsertRoom(ROOM)
    const server: Message[] = []
    const history = createHistory({
      store,
      meId: ME.id,
      settle: () => {},
      isJoined: () => true,
      api: {
        async changes (_roomId, since, limit) { return changes(server, since, limit) },
        async messages (_roomId, query = {}) {
          const answer = page(server, query)
          if (query.after === undefined && query.before === undefined && server.length === 0) {
            // Someone posts while the (empty) first page is on its way: the live frame comes
            // before the page, when the room has no timeline to merge it into yet.
            server.push(message(7))
            history.merge(rs, [message(7)])
          }
          return answer
        }
      }
    })

    await history.loadLatest(ROOM.id)

    expect(ids(rs.messages)).toEqual([7])
  })
})

function stubLocalStorage () {
  beforeEach(() => {
    const items = new Map<string, string>()
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => { items.set(key, value) },
      removeItem: (key: string) => { items.delete(key) }
    })
  })
  afterEach(() => { vi.unstubAllGlobals() })
}

describe('chat catch-up after a reconnect', () => {
  stubLocalStorage()

  it('an upload that finishes over REST while the socket is down does not make catch-up skip what others posted', async () => {
    const server = range(1, 50).map((id) => message(id))
    let open = false
    const asked: PageQuery[] = []
    const notices: string[] = []
    const store = createStore()
    const chat = createChat({
      store,
      session: { token: 't', expiresAt: '2999-01-01T00:00:00.000Z', user: ME },
      onLiveMessage: () => {},
      onNotice: (text) => { notices.push(text) },
      api: {
        async rooms () { return [{ ...ROOM, unreadCount: 0, lastReadId: 0 }] },
        async changes (_roomId, since, limit) { return changes(server, since, limit) },
        async messages (_roomId, query = {}) {
          asked.push(query)
          return page(server, query)
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
    /** Someone else posts: stored on the server, and sent live to us when we are connected. */
    const post = (id: number) => {
      const m = message(id)
      server.push(m)
      if (open) chat.onFrame({ type: 'message', message: m })
    }

    await chat.start()
    await ready()
    const rs = store.state.rooms.get(ROOM.id)
    for (const id of range(51, 100)) post(id) // live, joined and caught up: in sync up to 100
    expect(ids(rs?.messages ?? null)).toEqual(range(1, 100))

    // The connection drops; others post 101..150 meanwhile, then our upload (151) finishes over REST.
    open = false
    chat.onDisconnected()
    for (const id of range(101, 150)) post(id)
    const upload: Message = { ...message(151), author: { id: ME.id, username: ME.username } }
    server.push(upload)
    chat.addOwnMessage(upload)
    expect(ids(rs?.messages ?? null)).toEqual([...range(1, 100), 151]) // shown at once

    asked.length = 0
    await ready() // reconnect: catch-up

    expect(ids(rs?.messages ?? null)).toEqual(range(1, 151))
    expect(asked.map((q) => q.after)).toEqual([100]) // from where we were in sync, not from 151
    expect(rs?.syncedId).toBe(151)
    expect(notices).toEqual([])
  })
})

describe('chat.markRead', () => {
  stubLocalStorage()

  it('a read made while the socket is down reaches the server once it is back, and the badge stays cleared', async () => {
    const server = range(1, 3).map((id) => message(id))
    let serverReadId = 0 // the server's read marker for ME in ROOM
    let open = false
    const sent: Frame[] = []
    const notices: string[] = []
    const store = createStore()
    const chat = createChat({
      store,
      session: { token: 't', expiresAt: '2999-01-01T00:00:00.000Z', user: ME },
      onLiveMessage: () => {},
      onNotice: (text) => { notices.push(text) },
      api: {
        async rooms () {
          const unreadCount = server.filter((m) => m.author.id !== ME.id && m.id > serverReadId).length
          return [{ ...ROOM, unreadCount, lastReadId: serverReadId }]
        },
        async changes (_roomId, since, limit) { return changes(server, since, limit) },
        async messages (_roomId, query = {}) { return page(server, query) }
      },
      socket: {
        start () {},
        stop () {},
        send (frame) {
          if (!open) return false
          sent.push(frame)
          if (frame.type === 'read' && typeof frame.messageId === 'number') serverReadId = Math.max(serverReadId, frame.messageId)
          return true
        }
      }
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
    expect(ids(rs?.messages ?? null)).toEqual([1, 2, 3])
    expect(rs?.unread).toBe(3)

    // The connection drops; the user then scrolls to the newest message.
    open = false
    chat.onDisconnected()
    chat.markRead(ROOM.id)
    expect(rs?.unread).toBe(0) // they have seen them: no badge
    expect(serverReadId).toBe(0) // but nothing could be sent

    await ready() // reconnect: the rooms (and their unread counts) are fetched again

    expect(sent).toContainEqual({ type: 'read', roomId: ROOM.id, messageId: 3 })
    expect(serverReadId).toBe(3)
    expect(rs?.unread).toBe(0)
    expect(notices).toEqual([])
  })
})
