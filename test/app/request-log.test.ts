// Request logs: one line per request (not Fastify's two), with everything an operator needs from
// both; health checks only at debug, since monitoring polls them all day.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { buildApp } from '../../src/app.js'
import { makeTestConfig } from '../helper.js'

interface Line { msg: string, level: number, reqId?: string, req?: Record<string, unknown>, res?: { statusCode: number }, responseTime?: number }

async function serve (level: string) {
  const lines: Line[] = []
  const app = await buildApp(makeTestConfig({ LOG_LEVEL: level }), { logStream: { write: (line: string) => { lines.push(JSON.parse(line) as Line) } } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { app, lines, base: `http://127.0.0.1:${port}` }
}

let close: (() => Promise<void>) | undefined
afterEach(async () => { await close?.(); close = undefined })

describe('request logs', () => {
  it('write one line per request, with the request and the answer in it', async () => {
    const { app, lines, base } = await serve('info')
    close = () => app.close()
    await fetch(`${base}/api/rooms`)
    await fetch(`${base}/`)
    const reg = await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'logged', password: 'password123' }) })
    const { token } = await reg.json() as { token: string }
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, ['bearer', token])
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject) })
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.close()
    await closed
    const refusedWs = new WebSocket(`${base.replace('http', 'ws')}/ws`, ['bearer', 'nope'])
    await new Promise((resolve) => { refusedWs.once('error', resolve) })
    await new Promise((resolve) => setTimeout(resolve, 100))

    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([])
    const perRequest = new Map<string, Line[]>()
    for (const line of lines.filter((l) => l.req !== undefined)) perRequest.set(line.reqId!, [...(perRequest.get(line.reqId!) ?? []), line])
    const urls = [...perRequest.values()].map((group) => group.map((l) => l.req!.url))
    expect(urls).toEqual(expect.arrayContaining([['/api/rooms'], ['/'], ['/api/auth/register'], ['/ws'], ['/ws']]))
    // The socket that opened is logged when it closes; the refused upgrade as the 401 it got.
    const sockets = lines.filter((l) => l.req?.url === '/ws')
    expect(sockets.map((l) => [l.msg, l.res?.statusCode]).sort()).toEqual([['request completed', 401], ['websocket closed', 101]])
    for (const group of perRequest.values()) expect(group).toHaveLength(1)
    const refused = [...perRequest.values()].flat().find((l) => l.req!.url === '/api/rooms')!
    expect(refused).toMatchObject({ msg: 'request completed', level: 30, req: { method: 'GET', remoteAddress: '127.0.0.1' }, res: { statusCode: 401 } })
    expect(refused.req!.host).toBe('127.0.0.1')
    expect(typeof refused.responseTime).toBe('number')
  })

  it('log health checks only at debug', async () => {
    const info = await serve('info')
    await fetch(`${info.base}/api/health`)
    await info.app.close()
    expect(info.lines.filter((l) => l.req?.url === '/api/health')).toEqual([])

    const debug = await serve('debug')
    close = () => debug.app.close()
    await fetch(`${debug.base}/api/health`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const health = debug.lines.filter((l) => l.req?.url === '/api/health')
    expect(health).toHaveLength(1)
    expect(health[0]).toMatchObject({ msg: 'request completed', level: 20, res: { statusCode: 200 } })
  })
})
