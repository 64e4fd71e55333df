// The web client's outbox against the real server and its real rate limit (10 per second, bursts
// of 30): messages queued while offline all arrive, exactly once, after the reconnect, without a
// rate_limited refusal; and when another device has spent the allowance, refused sends wait their
// turn instead of failing. Plus the pacing and typing timers as pure functions.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPacer, DEFAULT_LIMITS, readLimits, typingTimers } from '../../public/js/lib/limits.js'
import { createOutbox } from '../../public/js/outbox.js'
import { createStore } from '../../public/js/store.js'
import { bearer, registerUser } from '../helper.js'
import { connect, listeningApp, type Frame, type ListeningApp, type TestSocket } from '../realtime/ws-client.js'

describe('createPacer', () => {
  it('lets a burst go at once, then one message per 1/rate, a little under the server\'s bucket', () => {
    let now = 0
    const pacer = createPacer({ ...DEFAULT_LIMITS, messagesPerSecond: 10, messageBurst: 30 }, () => now)
    let burst = 0
    while (pacer.take() === 0) burst++
    expect(burst).toBeGreaterThanOrEqual(25)
    expect(burst).toBeLessThanOrEqual(30) // the server allows 30
    const wait = pacer.take()
    expect(wait).toBeGreaterThanOrEqual(100) // the server's 10 per second: 100 ms apart at least
    expect(wait).toBeLessThanOrEqual(125)
    now += wait
    expect(pacer.take()).toBe(0)
    expect(pacer.take()).toBeGreaterThan(0)
    now += 10_000
    let again = 0
    while (pacer.take() === 0) again++
    expect(again).toBe(burst) // refilled, up to the burst only
  })
  it('drain empties it; configure keeps what is spent; 0 is no limit', () => {
    let now = 0
    const pacer = createPacer(DEFAULT_LIMITS, () => now)
    pacer.drain()
    expect(pacer.take()).toBeGreaterThanOrEqual(100)
    pacer.configure({ ...DEFAULT_LIMITS, messagesPerSecond: 20, messageBurst: 60 })
    const wait = pacer.take()
    expect(wait).toBeGreaterThanOrEqual(50)
    expect(wait).toBeLessThan(100)
    pacer.configure({ ...DEFAULT_LIMITS, messagesPerSecond: 0, messageBurst: 0 })
    for (let i = 0; i < 1000; i++) expect(pacer.take()).toBe(0)
  })
})

describe('typing timers', () => {
  it('repeat above the server\'s throttle and inside its expiry; show a little past the expiry', () => {
    const server = { ...DEFAULT_LIMITS, typingTtlMs: 5000, typingThrottleMs: 2000 }
    const { repeatMs, shownMs } = typingTimers(server)
    expect(repeatMs).toBeGreaterThan(server.typingThrottleMs)
    expect(repeatMs).toBeLessThan(server.typingTtlMs)
    expect(shownMs).toBeGreaterThan(server.typingTtlMs)
    expect(shownMs).toBeLessThanOrEqual(server.typingTtlMs + 1000)
  })
  it('read from the ready frame, with defaults for what is missing or malformed', () => {
    expect(readLimits(undefined)).toEqual(DEFAULT_LIMITS)
    expect(readLimits({ messagesPerSecond: 5, messageBurst: -1, typingTtlMs: 'x' })).toEqual({ ...DEFAULT_LIMITS, messagesPerSecond: 5 })
  })
})

describe('the outbox after a reconnect, against the real server', () => {
  let t: ListeningApp
  let user: { token: string, id: number }
  let ws: TestSocket
  let ready = false
  const saved = new Map<string, string>()

  beforeAll(async () => {
    t = await listeningApp({ MESSAGES_PER_SECOND: '10' })
    user = await registerUser(t.app)
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => { saved.set(k, v) },
      removeItem: (k: string) => { saved.delete(k) }
    })
  })
  afterEach(async () => { await ws?.close() })
  afterAll(async () => {
    vi.unstubAllGlobals()
    await t.close()
  })

  /** The outbox on a real socket that is "offline" until goOnline(). */
  async function outboxOnSocket () {
    ready = false
    ws = await connect(t.base, user.token)
    expect((await ws.request({ type: 'join', roomId: 1 }, 'joined')).roomId).toBe(1)
    const store = createStore()
    const socket = {
      send (frame: Frame): boolean {
        if (!ready) return false
        ws.send(frame)
        return true
      },
      isReady: () => ready
    }
    const outbox = createOutbox(store, socket, user.id)
    const errors: Frame[] = []
    const acked = new Map<string, number>()
    ws.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      if (frame.type === 'ack') {
        acked.set(frame.clientId, (acked.get(frame.clientId) ?? 0) + 1)
        outbox.settle(frame.clientId)
      }
      if (frame.type === 'error') {
        errors.push(frame)
        if (frame.code === 'rate_limited') outbox.throttled(frame.clientId)
        else outbox.fail(frame.clientId, frame.message)
      }
    })
    const goOnline = () => {
      ready = true
      outbox.setLimits(readLimits(ws.frames.find((f) => f.type === 'ready')?.limits))
      outbox.resendAll()
    }
    return { store, outbox, errors, acked, goOnline }
  }

  async function bodiesInRoom (): Promise<string[]> {
    const res = await t.app.inject({ url: '/api/rooms/1/messages?limit=100', headers: bearer(user.token) })
    return (res.json().messages as Array<{ body: string, author: { id: number } }>).filter((m) => m.author.id === user.id).map((m) => m.body)
  }

  async function until (done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  it('announces its limits in ready', async () => {
    const sock = await connect(t.base, user.token)
    expect(sock.frames[0]!.limits).toEqual({ messagesPerSecond: 10, messageBurst: 30, typingTtlMs: 5000, typingThrottleMs: 2000 })
    await sock.close()
  })

  it('45 messages queued offline all arrive exactly once, paced, with no rate_limited refusal', async () => {
    const { store, outbox, errors, acked, goOnline } = await outboxOnSocket()
    const bodies = Array.from({ length: 45 }, (_, i) => `offline ${i}`)
    for (const body of bodies) outbox.enqueue(1, body)
    goOnline()
    await until(() => (store.state as any).outbox.size === 0, 'every message acknowledged')
    expect(errors).toEqual([])
    expect([...acked.values()].every((n) => n === 1)).toBe(true)
    expect(acked.size).toBe(45)
    expect(await bodiesInRoom()).toEqual(bodies)
    outbox.stop()
  })

  it('when another device spent the allowance, refused sends wait their turn and still arrive once', async () => {
    const before = (await bodiesInRoom()).length
    await new Promise((resolve) => setTimeout(resolve, 3100)) // the server's bucket is full again
    const { store, outbox, errors, acked, goOnline } = await outboxOnSocket()
    for (let i = 0; i < 30; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/rooms/1/messages', headers: bearer(user.token), payload: { body: `other device ${i}` } })
      expect(res.statusCode).toBe(201)
    }
    const bodies = Array.from({ length: 8 }, (_, i) => `queued ${i}`)
    for (const body of bodies) outbox.enqueue(1, body)
    goOnline()
    await until(() => (store.state as any).outbox.size === 0, 'every message acknowledged')
    expect(errors.length).toBeGreaterThan(0) // the server did refuse some: they were sent again
    expect(errors.every((e) => e.code === 'rate_limited')).toBe(true)
    expect(acked.size).toBe(8)
    const all = await bodiesInRoom()
    expect(all.length - before).toBe(38)
    expect(all.slice(-8).sort()).toEqual([...bodies].sort())
    outbox.stop()
  })
})
