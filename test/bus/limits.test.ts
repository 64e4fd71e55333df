// The limits hold across nodes: what a user may do per node is no longer multiplied by the nodes.
// And what each one does while Redis is away (a private redis-server, stopped mid-test).
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../process-helper.js'
import { connect, refused } from '../realtime/ws-client.js'
import { name, post, register, startCluster, testRedis, type Cluster } from './cluster-helper.js'

const login = async (base: string, username: string, password: string): Promise<number> =>
  (await post(base, '/api/auth/login', null, { username, password })).status

describe('limits across nodes', () => {
  let cluster: Cluster
  let base: string[]
  let users: Array<Awaited<ReturnType<typeof register>>>

  beforeAll(async () => {
    (await testRedis()).disconnect()
    cluster = await startCluster(3, { MESSAGES_PER_SECOND: '1', CHANGES_PER_SECOND: '1', REGISTRATIONS_PER_HOUR: '4', MAX_SOCKETS_PER_USER: '2' })
    base = cluster.nodes.map((node) => node.url)
    // Three of the four registrations this address may make in the hour, one on each node.
    users = [await register(base[0]!, name('a')), await register(base[1]!, name('b')), await register(base[2]!, name('c'))]
  }, 180_000)
  afterAll(async () => cluster?.stop())

  it('registrations per hour count on every node together', async () => {
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await post(base[i]!, '/api/auth/register', null, { username: name('reg'), password: 'correct horse battery' })).status)
    expect(statuses).toEqual([201, 429, 429])
  })

  it('the message rate is per user on every node together (a burst of 3, then 1/s)', async () => {
    const { token } = users[0]!
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await post(base[i % 3]!, '/api/rooms/1/messages', token, { body: `r${i}` })).status)
    expect(statuses).toEqual([201, 201, 201, 429])
  })

  it('the change rate (reactions, edits, pins) is per user on every node together', async () => {
    const { token } = users[2]!
    const res = await post(base[0]!, '/api/rooms/1/messages', token, { body: 'react here' })
    const { message } = await res.json() as { message: { id: number } }
    const statuses = []
    for (let i = 0; i < 4; i++) {
      const path = `/api/rooms/1/messages/${message.id}/reactions/${encodeURIComponent('👍')}`
      statuses.push((await fetch(base[i % 3]! + path, { method: i % 2 === 0 ? 'PUT' : 'DELETE', headers: { authorization: `Bearer ${token}` } })).status)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  it('the login throttle counts failures on every node together', async () => {
    const { username, password } = users[1]!
    // Five free failures, spread over the nodes...
    for (let i = 0; i < 5; i++) expect(await login(base[i % 3]!, username, 'wrong password!')).toBe(401)
    // ...then even the right password waits, on any node.
    for (const b of base) expect(await login(b, username, password)).toBe(429)
  })

  it('sockets per user count on every node together', async () => {
    const { token } = users[2]!
    const first = await connect(base[0]!, token)
    const second = await connect(base[1]!, token)
    const third = await refused(base[2]!, token)
    expect(third.status).toBe(429)
    expect(third.body.error.code).toBe('too_many_sockets')
    await first.close()
    // The count follows the closes: room again for one.
    const deadline = Date.now() + 5000
    let again: Awaited<ReturnType<typeof connect>> | null = null
    while (again === null && Date.now() < deadline) again = await connect(base[2]!, token).catch(async () => { await new Promise((resolve) => setTimeout(resolve, 100)); return null })
    expect(again).not.toBeNull()
    await again!.close()
    await second.close()
  })
})

describe('while Redis is away', () => {
  let redis: ChildProcess | null = null
  let cluster: Cluster
  let redisPort: number

  const startRedis = async (): Promise<void> => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const client = await (async () => {
      for (let i = 0; i < 50; i++) {
        try {
          return await testRedis(`redis://127.0.0.1:${redisPort}`)
        } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
      }
      throw new Error('the private redis-server did not start')
    })()
    client.disconnect()
  }
  const stopRedis = async (): Promise<void> => {
    const r = redis
    redis = null
    if (r === null || r.exitCode !== null) return
    await new Promise((resolve) => { r.once('exit', resolve); r.kill('SIGKILL') })
  }

  beforeAll(async () => {
    redisPort = await freePort()
    await startRedis()
    cluster = await startCluster(1, { REDIS_URL: `redis://127.0.0.1:${redisPort}`, MESSAGES_PER_SECOND: '1' })
  }, 180_000)
  afterAll(async () => {
    await cluster?.stop()
    await stopRedis()
  })

  it('logins are refused (503, fail closed), messages keep this node\'s own rate, and both recover', async () => {
    const base = cluster.nodes[0]!.url
    const user = await register(base, name('away'))
    expect(await login(base, user.username, user.password)).toBe(200)
    const redisHealth = async (): Promise<string | null> => ((await (await fetch(`${base}/api/health`)).json()) as { redis: string | null }).redis
    expect(await redisHealth()).toBe('ok')
    await stopRedis()
    const downBy = Date.now() + 5000
    let seen = await redisHealth()
    while (seen !== 'down' && Date.now() < downBy) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await redisHealth()
    }
    expect(seen).toBe('down')
    const refusedLogin = await post(base, '/api/auth/login', null, { username: user.username, password: user.password })
    expect(refusedLogin.status).toBe(503)
    expect((await refusedLogin.json() as { error: { code: string } }).error.code).toBe('unavailable')
    expect(refusedLogin.headers.get('retry-after')).toBe('5')
    // Messages: this node's own bucket (3, then 1/s) still applies.
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await post(base, '/api/rooms/1/messages', user.token, { body: `away ${i}` })).status)
    expect(statuses).toEqual([201, 201, 201, 429])
    await startRedis()
    const deadline = Date.now() + 10_000
    let status = 0
    while (status !== 200 && Date.now() < deadline) {
      status = await login(base, user.username, user.password)
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(status).toBe(200)
    expect(await redisHealth()).toBe('ok')
  })
})
