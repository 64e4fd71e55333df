// The load generator: one process, `ws` clients, the monotonic clock (performance.now()). It runs
// one scenario against one server and prints one JSON line with the result. The same code drives
// Secure Chat and the bare baseline; it only needs a ws URL and tokens (the baseline ignores them).
// Usage: node --import tsx bench/loadgen.ts '<scenario JSON>'
import autocannon from 'autocannon'
import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { cpuMs, rssBytes, sleep, summarize, type Summary } from './lib.js'

export interface WsTarget {
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string
  /** The server process, for its CPU time during the measured window. */
  pid: number
  /** Reused round-robin across sockets, so bcrypt does not dominate set-up. */
  tokens: string[]
  roomId: number
}

export type Scenario =
  | WsTarget & { kind: 'fanout', subscribers: number, senders: number, durationMs: number, warmupMs: number, drainMs: number }
  | WsTarget & {
    kind: 'latency'
    subscribers: number
    ratePerSec: number
    durationMs: number
    drainMs: number
    /** Quiet time after set-up before measuring (the storm, if any, already runs). */
    settleMs: number
    /** Logins hammering the server meanwhile (the login storm). */
    storm?: { url: string, usernames: string[], password: string, ratePerSec: number }
    /** The sender on another node than the subscribers (cross-node delivery over the bus). */
    senderWsUrl?: string
  }
  | WsTarget & { kind: 'durable', senders: number, window: number, subscribers: number, durationMs: number, warmupMs: number, drainMs: number }
  /** Fan-out of changes: `senders` users each change a message of their own (react, take it back, edit; REST) as fast as answers come. */
  | WsTarget & { kind: 'updates', url: string, subscribers: number, senders: number, durationMs: number, warmupMs: number, drainMs: number }
  | WsTarget & { kind: 'idle', sockets: number, warmupSockets: number, rooms: number[], settleMs: number }
  | { kind: 'history', pid: number, url: string, token: string, roomId: number, connections: number, durationMs: number, before?: number, randomBefore?: [number, number] }

const BODY = 'The quick brown fox jumps over the lazy dog; a typical chat line of about a hundred characters. ok'
const CONNECT_CONCURRENCY = 100
const CONNECT_TIMEOUT_MS = 20_000
const runTag = randomBytes(4).toString('hex')

// ---- frames: a fast path for the hot frames (both servers put "type" first), JSON.parse otherwise

const MESSAGE_PREFIX = Buffer.from('{"type":"message"')
const UPDATED_PREFIX = Buffer.from('{"type":"message_updated","message":{"id":')
const ACK_PREFIX = Buffer.from('{"type":"ack"')
const CLIENT_ID_KEY = Buffer.from('"clientId":"')

const startsWith = (data: Buffer, prefix: Buffer): boolean =>
  data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0

function clientIdOf (data: Buffer): string | null {
  const at = data.indexOf(CLIENT_ID_KEY)
  if (at < 0) return null
  const from = at + CLIENT_ID_KEY.length
  const to = data.indexOf(34, from) // the closing quote
  return to < 0 ? null : data.toString('latin1', from, to)
}

/** A `message_updated` frame's message id (the first key of the message, as both stores build it). */
function updatedIdOf (data: Buffer): number {
  let id = 0
  for (let i = UPDATED_PREFIX.length; i < data.length; i++) {
    const digit = data[i]! - 48
    if (digit < 0 || digit > 9) break
    id = id * 10 + digit
  }
  return id
}

type Kind = 'message' | 'updated' | 'ack' | 'other'
interface Frame { kind: Kind, clientId: string | null, parsed?: Record<string, unknown>, messageId?: number }

function classify (data: Buffer): Frame {
  if (startsWith(data, UPDATED_PREFIX)) return { kind: 'updated', clientId: null, messageId: updatedIdOf(data) }
  if (startsWith(data, MESSAGE_PREFIX)) return { kind: 'message', clientId: clientIdOf(data) }
  if (startsWith(data, ACK_PREFIX)) return { kind: 'ack', clientId: clientIdOf(data) }
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>
  } catch {
    return { kind: 'other', clientId: null }
  }
  const message = parsed.message as { clientId?: string | null } | undefined
  if (parsed.type === 'message') return { kind: 'message', clientId: message?.clientId ?? null, parsed }
  if (parsed.type === 'ack') return { kind: 'ack', clientId: (parsed.clientId as string | null | undefined) ?? message?.clientId ?? null, parsed }
  return { kind: 'other', clientId: null, parsed }
}

// ---- connections

/** Problems seen during a run: they make the result suspect, so they are reported, not hidden. */
const problems = { errorFrames: 0, unexpectedCloses: 0, samples: [] as string[] }
function problem (text: string): void {
  if (problems.samples.length < 5) problems.samples.push(text)
}

class Conn {
  /** Called for each frame once set-up is over. */
  onFrame: (frame: Frame, at: number) => void = () => {}
  closing = false
  #waiters: Array<{ match: (f: Frame) => boolean, resolve: () => void }> = []

  constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const at = performance.now()
      const frame = classify(data)
      if (frame.kind === 'other' && frame.parsed?.type === 'error') {
        problems.errorFrames++
        problem(`error frame: ${JSON.stringify(frame.parsed)}`)
      }
      if (this.#waiters.length > 0) {
        const i = this.#waiters.findIndex((w) => w.match(frame))
        if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve()
      }
      this.onFrame(frame, at)
    })
    ws.on('close', (code, reason) => {
      if (!this.closing) {
        problems.unexpectedCloses++
        problem(`socket closed by the server: ${code} ${reason.toString()}`)
      }
    })
    ws.on('error', (error) => problem(`socket error: ${error.message}`))
  }

  /** Resolves when a frame matching `match` arrives (or rejects after timeoutMs). */
  waitFor (match: (f: Frame) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
      this.#waiters.push({ match, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }

  send (frame: object): void {
    this.ws.send(JSON.stringify(frame))
  }

  async join (roomId: number): Promise<void> {
    const joined = this.waitFor((f) => f.parsed?.type === 'joined' && f.parsed.roomId === roomId, CONNECT_TIMEOUT_MS, `joined ${roomId}`)
    this.send({ type: 'join', roomId })
    await joined
  }

  close (): void {
    this.closing = true
    this.ws.close(1000)
  }
}

async function connect (wsUrl: string, token: string): Promise<Conn> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false, skipUTF8Validation: true })
  const conn = new Conn(ws)
  const ready = conn.waitFor((f) => f.parsed?.type === 'ready', CONNECT_TIMEOUT_MS, 'the ready frame')
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)))
  })
  await ready
  return conn
}

let tokenTurn = 0
const nextToken = (tokens: string[]): string => tokens[tokenTurn++ % tokens.length]!

/** Opens n sockets joined to roomOf(i), CONNECT_CONCURRENCY at a time. */
async function openMany (target: WsTarget, n: number, roomOf: (i: number) => number): Promise<Conn[]> {
  const conns: Conn[] = new Array<Conn>(n)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      const conn = await connect(target.wsUrl, nextToken(target.tokens))
      await conn.join(roomOf(i))
      conns[i] = conn
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, worker))
  return conns
}

async function closeAll (conns: Conn[], timeoutMs = 5000): Promise<void> {
  const closed = conns.map((c) => new Promise<void>((resolve) => {
    if (c.ws.readyState === WebSocket.CLOSED) resolve()
    else c.ws.once('close', () => resolve())
  }))
  for (const c of conns) c.close()
  await Promise.race([Promise.all(closed), sleep(timeoutMs)])
  for (const c of conns) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate()
}

// ---- message tracking, shared by fan-out, latency and durable throughput

interface Track { sent: number, measured: boolean, acked: boolean, received: number }

class Tracker {
  readonly messages = new Map<string, Track>()
  readonly ackLatency: number[] = []
  readonly deliveryLatency: number[] = []
  seq = 0
  acked = 0
  ackedInWindow = 0
  deliveriesInWindow = 0
  /** The measuring window, in performance.now() time. */
  windowStart = Number.POSITIVE_INFINITY
  windowEnd = Number.POSITIVE_INFINITY

  constructor (readonly subscribers: number) {}

  inWindow (at: number): boolean {
    return at >= this.windowStart && at <= this.windowEnd
  }

  /** Sends one message on conn, tracked by a unique clientId. */
  send (conn: Conn, roomId: number): void {
    const clientId = `${runTag}-${this.seq++}`
    const now = performance.now()
    this.messages.set(clientId, { sent: now, measured: this.inWindow(now), acked: false, received: 0 })
    conn.ws.send(`{"type":"message","roomId":${roomId},"body":"${BODY}","clientId":"${clientId}"}`)
  }

  /** An ack on a sender; returns true when it was one of ours. */
  onAck (clientId: string | null, at: number): boolean {
    const track = clientId === null ? undefined : this.messages.get(clientId)
    if (track === undefined || track.acked) return false
    track.acked = true
    this.acked++
    if (this.inWindow(at)) this.ackedInWindow++
    if (track.measured) this.ackLatency.push(at - track.sent)
    return true
  }

  onDelivery (clientId: string | null, at: number): void {
    const track = clientId === null ? undefined : this.messages.get(clientId)
    if (track === undefined) return
    track.received++
    if (this.inWindow(at)) this.deliveriesInWindow++
    if (track.measured) this.deliveryLatency.push(at - track.sent)
  }

  /** Deliveries still missing for acknowledged messages. */
  lost (): number {
    let lost = 0
    for (const track of this.messages.values()) if (track.acked) lost += Math.max(0, this.subscribers - track.received)
    return lost
  }

  unacked (): number {
    return this.seq - this.acked
  }

  /** Waits until every sent message is acked and delivered everywhere, at most timeoutMs. */
  async drain (timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (performance.now() < deadline && (this.unacked() > 0 || this.lost() > 0)) await sleep(25)
  }
}

function subscribe (conns: Conn[], tracker: Tracker): void {
  for (const conn of conns) {
    conn.onFrame = (frame, at) => {
      if (frame.kind === 'message') tracker.onDelivery(frame.clientId, at)
    }
  }
}

// ---- scenarios

/**
 * Senders that each keep `window` messages unacknowledged (each ack releases the next send), and
 * subscribers that count deliveries. Fan-out is window 1 ("as fast as acks allow"); durable is 32.
 * Server CPU is per 1000 deliveries (fan-out) or per 1000 acked messages (durable).
 */
async function closedLoop (s: Extract<Scenario, { kind: 'fanout' | 'durable' }>, window: number, cpuPer: 'delivery' | 'ack'): Promise<Record<string, unknown>> {
  const subs = await openMany(s, s.subscribers, () => s.roomId)
  const senders = await openMany(s, s.senders, () => s.roomId)
  const tracker = new Tracker(s.subscribers)
  subscribe(subs, tracker)
  let running = true
  for (const sender of senders) {
    sender.onFrame = (frame, at) => {
      if (frame.kind === 'ack' && tracker.onAck(frame.clientId, at) && running) tracker.send(sender, s.roomId)
    }
  }
  const start = performance.now()
  tracker.windowStart = start + s.warmupMs
  tracker.windowEnd = tracker.windowStart + s.durationMs
  for (const sender of senders) for (let i = 0; i < window; i++) tracker.send(sender, s.roomId)
  await sleep(s.warmupMs)
  const cpuBefore = cpuMs(s.pid)
  await sleep(s.durationMs)
  const cpu = cpuMs(s.pid) - cpuBefore
  running = false
  await tracker.drain(s.drainMs)
  const seconds = s.durationMs / 1000
  const result = {
    serverCpuMsPer1000: (1000 * cpu) / (cpuPer === 'delivery' ? tracker.deliveriesInWindow : tracker.ackedInWindow),
    deliveriesPerSec: tracker.deliveriesInWindow / seconds,
    ackedPerSec: tracker.ackedInWindow / seconds,
    ack: summarize(tracker.ackLatency),
    delivery: summarize(tracker.deliveryLatency),
    sent: tracker.seq,
    acked: tracker.acked,
    unacked: tracker.unacked(),
    lost: tracker.lost()
  }
  await closeAll([...subs, ...senders])
  return result
}

const fanout = async (s: Extract<Scenario, { kind: 'fanout' }>): Promise<Record<string, unknown>> => closedLoop(s, 1, 'delivery')
const durable = async (s: Extract<Scenario, { kind: 'durable' }>): Promise<Record<string, unknown>> => closedLoop(s, s.window, 'ack')

/**
 * The fan-out of changes (issue 17), shaped like `fanout`: `subscribers` sockets in the room count
 * `message_updated` frames while `senders` users each change a message of their own, one request
 * at a time (react, take the reaction back, edit, again), over REST with keep-alive (changes have
 * no socket frame). Deliveries per second compare with the fan-out of new messages.
 */
async function updates (s: Extract<Scenario, { kind: 'updates' }>): Promise<Record<string, unknown>> {
  const subs = await openMany(s, s.subscribers, () => s.roomId)
  const agent = new Agent({ keepAlive: true, maxSockets: s.senders })
  const call = (token: string, method: string, path: string, body?: string): Promise<{ status: number, text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(s.url + path, {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  // Each sender's own message (it may edit only its own).
  const changers = await Promise.all(Array.from({ length: s.senders }, async (_, i) => {
    const token = s.tokens[i % s.tokens.length]!
    const made = await call(token, 'POST', `/api/rooms/${s.roomId}/messages`, JSON.stringify({ body: `${BODY} ${runTag}-${i}` }))
    if (made.status !== 201) throw new Error(`updates: the target message was refused: ${made.status} ${made.text.slice(0, 200)}`)
    return { token, messageId: (JSON.parse(made.text) as { message: { id: number } }).message.id, emoji: encodeURIComponent(['👍', '🎉', '❤️', '🔥'][i % 4]!) }
  }))
  // A sender's changes are one at a time, and each subscriber gets a message's frames in seq order:
  // the k-th frame a subscriber gets for a message is that message's k-th change.
  const sentAt = new Map(changers.map((c) => [c.messageId, [] as number[]]))
  const latency: number[] = []
  let windowStart = Number.POSITIVE_INFINITY
  let windowEnd = Number.POSITIVE_INFINITY
  const inWindow = (at: number): boolean => at >= windowStart && at <= windowEnd
  let deliveries = 0
  let deliveriesInWindow = 0
  for (const conn of subs) {
    const seen = new Map<number, number>()
    conn.onFrame = (frame, at) => {
      if (frame.kind !== 'updated' || frame.messageId === undefined) return
      const times = sentAt.get(frame.messageId)
      if (times === undefined) return
      const k = seen.get(frame.messageId) ?? 0
      seen.set(frame.messageId, k + 1)
      deliveries++
      if (!inWindow(at)) return
      deliveriesInWindow++
      const sent = times[k]
      if (sent !== undefined && inWindow(sent)) latency.push(at - sent)
    }
  }
  let running = true
  let changes = 0
  let changesInWindow = 0
  const ackLatency: number[] = []
  const failures: string[] = []
  const loops = changers.map(async (c) => {
    for (let n = 0; running; n++) {
      const step = n % 3
      const sent = performance.now()
      sentAt.get(c.messageId)!.push(sent)
      const path = `/api/rooms/${s.roomId}/messages/${c.messageId}`
      const res = step === 2
        ? await call(c.token, 'PATCH', path, JSON.stringify({ body: `${BODY} edit ${n}` }))
        : await call(c.token, step === 0 ? 'PUT' : 'DELETE', `${path}/reactions/${c.emoji}`)
      if (res.status !== 200) {
        failures.push(`${res.status} ${res.text.slice(0, 200)}`)
        break
      }
      const at = performance.now()
      changes++
      if (inWindow(at)) changesInWindow++
      if (inWindow(sent)) ackLatency.push(at - sent)
    }
  })
  const start = performance.now()
  windowStart = start + s.warmupMs
  windowEnd = windowStart + s.durationMs
  await sleep(s.warmupMs)
  const cpuBefore = cpuMs(s.pid)
  await sleep(s.durationMs)
  const cpu = cpuMs(s.pid) - cpuBefore
  running = false
  await Promise.all(loops)
  // Every change answered 200 changed its message: each owes one frame to every subscriber.
  const deadline = performance.now() + s.drainMs
  while (performance.now() < deadline && deliveries < changes * s.subscribers) await sleep(25)
  const seconds = s.durationMs / 1000
  const result = {
    serverCpuMsPer1000: (1000 * cpu) / deliveriesInWindow,
    deliveriesPerSec: deliveriesInWindow / seconds,
    changesPerSec: changesInWindow / seconds,
    ack: summarize(ackLatency),
    delivery: summarize(latency),
    changes,
    lost: Math.max(0, changes * s.subscribers - deliveries),
    failures: failures.slice(0, 3)
  }
  agent.destroy()
  await closeAll(subs)
  if (failures.length > 0) throw new Error(`updates: a change was refused: ${failures[0]}`)
  return result
}

interface StormStats { offered: number, ok: number, statuses: Record<string, number>, failures: number, latency: Summary, abandoned: number }

/** Open-loop logins at ratePerSec until stopped; requests still pending at the stop are aborted. */
function startStorm (storm: NonNullable<Extract<Scenario, { kind: 'latency' }>['storm']>): () => StormStats {
  const controller = new AbortController()
  const statuses: Record<string, number> = {}
  const latency: number[] = []
  let offered = 0
  let ok = 0
  let failures = 0
  let pending = 0
  const bodies = storm.usernames.map((username) => JSON.stringify({ username, password: storm.password }))
  const login = (): void => {
    const body = bodies[offered % bodies.length]
    offered++
    pending++
    const started = performance.now()
    fetch(`${storm.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: controller.signal })
      .then(async (response) => {
        await response.arrayBuffer()
        statuses[response.status] = (statuses[response.status] ?? 0) + 1
        if (response.status === 200) {
          ok++
          latency.push(performance.now() - started)
        }
      }, () => { if (!controller.signal.aborted) failures++ })
      .finally(() => { pending-- })
  }
  const period = 1000 / storm.ratePerSec
  let next = performance.now()
  let stopped = false
  const tick = (): void => {
    if (stopped) return
    const now = performance.now()
    while (next <= now) {
      login()
      next += period
    }
    setTimeout(tick, Math.max(0, next - performance.now()))
  }
  tick()
  return () => {
    stopped = true
    const abandoned = pending
    controller.abort()
    return { offered, ok, statuses, failures, latency: summarize(latency), abandoned }
  }
}

async function latency (s: Extract<Scenario, { kind: 'latency' }>): Promise<Record<string, unknown>> {
  const subs = await openMany(s, s.subscribers, () => s.roomId)
  const [sender] = await openMany({ ...s, wsUrl: s.senderWsUrl ?? s.wsUrl }, 1, () => s.roomId)
  const tracker = new Tracker(s.subscribers)
  subscribe(subs, tracker)
  sender!.onFrame = (frame, at) => {
    if (frame.kind === 'ack') tracker.onAck(frame.clientId, at)
  }
  const stopStorm = s.storm === undefined ? null : startStorm(s.storm)
  // Let the set-up burst (and the storm, if any) settle before measuring.
  await sleep(s.settleMs)
  const start = performance.now()
  tracker.windowStart = start
  tracker.windowEnd = start + s.durationMs
  const total = Math.round((s.durationMs / 1000) * s.ratePerSec)
  const period = 1000 / s.ratePerSec
  // Open loop on a fixed schedule: a slow server does not slow the sender down.
  await new Promise<void>((resolve) => {
    let next = start
    const tick = (): void => {
      const now = performance.now()
      while (next <= now && tracker.seq < total) {
        tracker.send(sender!, s.roomId)
        next += period
      }
      if (tracker.seq >= total) resolve()
      else setTimeout(tick, Math.max(0, next - performance.now()))
    }
    tick()
  })
  await tracker.drain(s.drainMs)
  const storm = stopStorm?.() ?? null
  const result = {
    delivery: summarize(tracker.deliveryLatency),
    ack: summarize(tracker.ackLatency),
    sent: tracker.seq,
    acked: tracker.acked,
    lost: tracker.lost(),
    storm
  }
  await closeAll([...subs, sender!])
  return result
}

async function idle (s: Extract<Scenario, { kind: 'idle' }>): Promise<Record<string, unknown>> {
  // A throwaway round first, so one-time costs (JIT code, heap spaces growing) are not counted per socket.
  await closeAll(await openMany(s, s.warmupSockets, (i) => s.rooms[i % s.rooms.length]!), 10_000)
  await sleep(s.settleMs)
  const before = rssBytes(s.pid)
  const started = performance.now()
  const conns = await openMany(s, s.sockets, (i) => s.rooms[i % s.rooms.length]!)
  const connectMs = performance.now() - started
  await sleep(s.settleMs)
  const after = rssBytes(s.pid)
  const open = conns.filter((c) => c.ws.readyState === WebSocket.OPEN).length
  await closeAll(conns, 10_000)
  return { rssBefore: before, rssAfter: after, bytesPerSocket: (after - before) / s.sockets, sockets: s.sockets, open, connectsPerSec: s.sockets / (connectMs / 1000) }
}

async function history (s: Extract<Scenario, { kind: 'history' }>): Promise<Record<string, unknown>> {
  const base = `/api/rooms/${s.roomId}/messages?limit=50`
  const path = s.before === undefined ? base : `${base}&before=${s.before}`
  const random = s.randomBefore
  const cpuBefore = cpuMs(s.pid)
  const result = await autocannon({
    url: s.url,
    connections: s.connections,
    duration: s.durationMs / 1000,
    headers: { authorization: `Bearer ${s.token}` },
    requests: [random === undefined
      ? { method: 'GET', path }
      : {
          method: 'GET',
          path,
          setupRequest: (request) => ({ ...request, path: `${base}&before=${random[0] + Math.floor(Math.random() * (random[1] - random[0]))}` })
        }]
  })
  const cpu = cpuMs(s.pid) - cpuBefore
  return {
    serverCpuUsPerPage: (1000 * cpu) / result['2xx'],
    pagesPerSec: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max }
  }
}

async function main (): Promise<void> {
  const scenario = JSON.parse(process.argv[2] ?? '') as Scenario
  // Every run is bounded: a hung server or a lost frame cannot keep the bench going.
  const guard = setTimeout(() => {
    process.stderr.write('loadgen: scenario took too long; giving up\n')
    process.exit(2)
  }, 180_000)
  let result: Record<string, unknown>
  switch (scenario.kind) {
    case 'fanout': result = await fanout(scenario); break
    case 'latency': result = await latency(scenario); break
    case 'durable': result = await durable(scenario); break
    case 'updates': result = await updates(scenario); break
    case 'idle': result = await idle(scenario); break
    case 'history': result = await history(scenario); break
  }
  clearTimeout(guard)
  const cpu = process.cpuUsage()
  process.stdout.write(JSON.stringify({ ...result, loadgenCpuMs: (cpu.user + cpu.system) / 1000, problems }) + '\n')
  process.exit(0)
}

main().catch((error: unknown) => {
  process.stderr.write(`loadgen: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.stdout.write(JSON.stringify({ failed: String(error), problems }) + '\n')
  process.exit(1)
})
