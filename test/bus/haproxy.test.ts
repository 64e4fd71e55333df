// One smoke test through a real balancer: HAProxy (Debian's package) with the repository's own
// deploy/haproxy.cfg in front of two nodes. Login, a message between sockets that the balancer put
// on different nodes, and a dead node taken out by the health checks (GET /api/health).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { available } from '../requirements.js'
import { freePort, ROOT } from '../process-helper.js'
import { settle, TestSocket } from '../realtime/ws-client.js'
import { name, post, register, startCluster, testRedis, type Cluster } from './cluster-helper.js'

// Debian puts it in /usr/sbin, which a non-root PATH may lack.
const HAPROXY = ['haproxy', '/usr/sbin/haproxy'].find((command) => spawnSync(command, ['-v']).status === 0)

/** Opens a socket through the balancer; `node` is the server HAProxy picked (its X-Chat-Node header). */
async function connectVia (base: string, token: string): Promise<{ socket: TestSocket, node: string }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`)
  let node = ''
  ws.once('upgrade', (res) => { node = String(res.headers['x-chat-node']) })
  const socket = new TestSocket(ws)
  await socket.waitFor((f) => f.type === 'ready', { what: 'ready', timeoutMs: 5000 })
  return { socket, node }
}

describe.skipIf(!available('HAProxy (apt-get install haproxy)', HAPROXY !== undefined))('HAProxy in front of two nodes (deploy/haproxy.cfg)', () => {
  let cluster: Cluster
  let haproxy: ChildProcess
  let output = ''
  let base: string
  let statsSocket: string

  /** HAProxy's own view of each node: node1 → UP / DOWN, from `show stat` on its stats socket. */
  const states = async (): Promise<Record<string, string>> => new Promise((resolve, reject) => {
    let csv = ''
    const conn = createConnection(statsSocket, () => conn.end('show stat\n'))
    conn.on('data', (chunk) => { csv += chunk.toString() })
    conn.on('error', reject)
    conn.on('end', () => {
      const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n').map((line) => line.split(','))
      const col = (what: string): number => header!.indexOf(what)
      resolve(Object.fromEntries(rows.filter((r) => r[col('pxname')] === 'nodes' && r[col('svname')]!.startsWith('node'))
        .map((r) => [r[col('svname')]!, r[col('status')]!])))
    })
  })
  const until = async (check: () => Promise<boolean>, ms: number): Promise<boolean> => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await settle(100)) if (await check().catch(() => false)) return true
    return false
  }

  beforeAll(async () => {
    (await testRedis()).disconnect()
    cluster = await startCluster(2)
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    statsSocket = join(cluster.dir, 'haproxy.sock')
    haproxy = spawn(HAPROXY!, ['-db', '-f', join(ROOT, 'deploy/haproxy.cfg')], {
      env: {
        PATH: process.env.PATH ?? '',
        CHAT_BIND: `127.0.0.1:${port}`,
        CHAT_NODE_1: `127.0.0.1:${cluster.nodes[0]!.port}`,
        CHAT_NODE_2: `127.0.0.1:${cluster.nodes[1]!.port}`,
        CHAT_HAPROXY_SOCKET: statsSocket,
        CHAT_CHECK_INTERVAL: '500ms' // only quicker than the file's 2 s; everything else as shipped
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    haproxy.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    haproxy.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const exited = new Promise<boolean>((resolve) => haproxy.once('exit', () => resolve(false)))
    const up = await Promise.race([exited, until(async () => JSON.stringify(await states()) === JSON.stringify({ node1: 'UP', node2: 'UP' }), 15_000)])
    if (!up) throw new Error(`HAProxy did not see both nodes up:\n${output}`)
  }, 180_000)

  afterAll(async () => {
    if (haproxy !== undefined && haproxy.exitCode === null) {
      const exited = new Promise((resolve) => haproxy.once('exit', resolve))
      haproxy.kill('SIGTERM')
      await exited
    }
    await cluster?.stop()
  })

  it('logs in, carries a message between sockets on both nodes, and takes a dead node out', async () => {
    // Login through the balancer.
    const alice = await register(base, name('lb'))
    const login = await post(base, '/api/auth/login', null, { username: alice.username, password: alice.password })
    expect(login.status).toBe(200)
    const { token } = await login.json() as { token: string }
    expect((await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)

    // Two sockets: the balancer (least connections) spreads them over both nodes.
    const first = await connectVia(base, token)
    const second = await connectVia(base, token)
    expect([first.node, second.node].sort()).toEqual(['node1', 'node2'])
    for (const { socket } of [first, second]) await socket.request({ type: 'join', roomId: 1 }, 'joined')
    const ack = await first.socket.request({ type: 'message', roomId: 1, body: 'through the balancer', clientId: 'lb-1' }, 'ack')
    const got = await second.socket.waitFor((f) => f.type === 'message' && f.message.id === ack.message.id, { timeoutMs: 5000 })
    expect(got.message.body).toBe('through the balancer')

    // Node 2 dies: the checks take it out, and everything goes to node 1.
    const onDead = first.node === 'node2' ? first : second
    const onLive = onDead === first ? second : first
    await cluster.nodes[1]!.stop('SIGKILL')
    await onDead.socket.closed
    expect(await until(async () => (await states()).node2 === 'DOWN', 10_000)).toBe(true)
    expect((await states()).node1).toBe('UP')
    const nodes = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/api/health`)
      expect(res.status).toBe(200)
      nodes.add(String(res.headers.get('x-chat-node')))
    }
    expect([...nodes]).toEqual(['node1'])
    // The dead node's client comes back through the balancer and is served by the live one.
    const back = await connectVia(base, token)
    expect(back.node).toBe('node1')
    await back.socket.request({ type: 'join', roomId: 1 }, 'joined')
    const again = await onLive.socket.request({ type: 'message', roomId: 1, body: 'after the failover', clientId: 'lb-2' }, 'ack')
    await back.socket.waitFor((f) => f.type === 'message' && f.message.id === again.message.id, { timeoutMs: 5000 })
    for (const { socket } of [onLive, back]) await socket.close()
  })
})
