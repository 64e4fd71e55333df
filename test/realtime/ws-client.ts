// Test helpers for the WebSocket hub: an app listening on a real port, a `ws` client that keeps
// every frame it gets and can wait for one, and a raw HS256 signer for crafted tokens.
import { createHmac } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import { buildTestApp, type TestApp } from '../helper.js'

export type Frame = { type: string } & Record<string, any>

export interface ListeningApp extends TestApp {
  /** http://127.0.0.1:<port> */
  base: string
}

export async function listeningApp (env: Record<string, string> = {}): Promise<ListeningApp> {
  const t = await buildTestApp(env)
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = t.app.server.address() as AddressInfo
  return { ...t, base: `http://127.0.0.1:${port}` }
}

export interface ConnectOptions {
  /** How to send the token: `query` (default) or the `bearer, <token>` subprotocol pair. */
  via?: 'query' | 'protocol'
  headers?: Record<string, string>
  autoPong?: boolean
  maxPayload?: number
}

export class TestSocket {
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number, reason: string }>
  #waiters = new Set<() => void>()

  constructor (readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame)
      for (const wake of this.#waiters) wake()
    })
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    ws.on('error', () => {}) // surfaced through `closed`
  }

  send (frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The first frame (from index `from` on) that matches, waiting for it if need be. */
  async waitFor (match: (frame: Frame) => boolean, { from = 0, timeoutMs = 3000, what = 'a frame' } = {}): Promise<Frame> {
    const find = (): Frame | undefined => this.frames.slice(from).find(match)
    const found = find()
    if (found !== undefined) return found
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const frame = find()
        if (frame === undefined) return
        done()
        resolve(frame)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(from)).slice(0, 600)}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
      }
      this.#waiters.add(wake)
    })
  }

  /** Sends a frame and waits for the next frame of the given type. */
  async request (frame: unknown, type: string): Promise<Frame> {
    const from = this.frames.length
    this.send(frame)
    return this.waitFor((f) => f.type === type, { from, what: type })
  }

  /**
   * A barrier: a ping's pong comes after every frame the server had written to this socket
   * before it read the ping, so absence checks after `sync()` are meaningful.
   */
  async sync (): Promise<void> {
    await this.request({ type: 'ping' }, 'pong')
  }

  of (type: string, match: (frame: Frame) => boolean = () => true): Frame[] {
    return this.frames.filter((f) => f.type === type && match(f))
  }

  async close (): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    this.ws.close()
    await this.closed
  }
}

function wsUrl (base: string, token: string | null, via: 'query' | 'protocol'): string {
  const url = `${base.replace(/^http/, 'ws')}/ws`
  return token !== null && via === 'query' ? `${url}?token=${encodeURIComponent(token)}` : url
}

function open (base: string, token: string | null, options: ConnectOptions): WebSocket {
  const via = options.via ?? 'query'
  return new WebSocket(wsUrl(base, token, via), via === 'protocol' && token !== null ? ['bearer', token] : [], {
    headers: options.headers,
    autoPong: options.autoPong ?? true,
    maxPayload: options.maxPayload
  })
}

/** Connects and waits for the `ready` frame. */
export async function connect (base: string, token: string, options: ConnectOptions = {}): Promise<TestSocket> {
  const ws = open(base, token, options)
  const socket = new TestSocket(ws)
  await new Promise<void>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    ws.once('close', (code) => reject(new Error(`closed before ready: ${code}`)))
    socket.waitFor((f) => f.type === 'ready', { what: 'ready' }).then(() => resolve(), reject)
  })
  return socket
}

/** Expects the upgrade to be refused; returns the HTTP status and JSON body. */
export async function refused (base: string, token: string | null, options: ConnectOptions = {}): Promise<{ status: number, body: any }> {
  const ws = open(base, token, options)
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('the upgrade was accepted'))
    })
    ws.once('error', () => {})
    ws.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => {
        ws.terminate()
        resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) })
      })
    })
  })
}

/** A compact JWT signed with HMAC-SHA256 (or any header), for tokens the app would never issue. */
export function signJwt (header: object, claims: object, secret: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${part(header)}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

/** Resolves after `ms` only as a bounded wait for something that must NOT happen. */
export const settle = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
