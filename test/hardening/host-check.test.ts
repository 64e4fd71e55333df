// DNS rebinding: a request naming a host this server is not known by gets 421 in the contract's
// shape (a refused upgrade on /ws), on every route; the names it is known by keep working.
import { connect as tcpConnect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { hostChecker } from '../../src/security/host-check.js'
import { makeTestConfig, registerUser, uniqueName } from '../helper.js'
import { connect, listeningApp, refused, type ListeningApp } from '../realtime/ws-client.js'

const noCors: string[] = []

describe('hostChecker', () => {
  it('with a loopback HOST: localhost, 127.0.0.1 and [::1], with or without a port', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      const allowed = hostChecker({ host, corsOrigins: noCors, allowedHosts: [] })
      for (const ok of ['localhost', 'localhost:8000', 'LOCALHOST:8000', 'localhost.:8000', '127.0.0.1', '127.0.0.1:8000', '[::1]', '[::1]:8000', '127.0.0.1:80']) {
        expect(allowed(ok), `${host}: ${ok}`).toBe(true)
      }
      for (const bad of ['attacker.example', 'attacker.example:8000', 'localhost.attacker.example', '192.168.1.20:8000', '10.0.0.1',
        '[fe80::1]:8000', '::1', '', 'localhost:99999', 'localhost:', 'localhost:8000:1', 'local host', 'localhost/x', '[::1', 'user@localhost',
        '127.0.0.1.nip.io:8000', undefined]) {
        expect(allowed(bad), `${host}: ${String(bad)}`).toBe(false)
      }
    }
  })

  it('with HOST=0.0.0.0 or ::, any IP literal too (the LAN demo by address), but no other name', () => {
    for (const host of ['0.0.0.0', '::']) {
      const allowed = hostChecker({ host, corsOrigins: noCors, allowedHosts: [] })
      for (const ok of ['192.168.1.20:8000', '10.0.0.7', '[fe80::1]:8000', '[2001:db8::1]', 'localhost:8000', '127.0.0.1:8000']) expect(allowed(ok), ok).toBe(true)
      for (const bad of ['attacker.example:8000', 'my-laptop.local:8000', '192.168.1.20.attacker.example', '999.1.1.1']) expect(allowed(bad), bad).toBe(false)
    }
  })

  it('with a specific HOST: that address (and the loopback names), not other addresses', () => {
    const allowed = hostChecker({ host: '192.168.1.5', corsOrigins: noCors, allowedHosts: [] })
    expect(allowed('192.168.1.5:8000')).toBe(true)
    expect(allowed('localhost:8000')).toBe(true)
    expect(allowed('192.168.1.6:8000')).toBe(false)
    expect(allowed('attacker.example')).toBe(false)
  })

  it('the hosts of CORS_ALLOW_ORIGINS (the public name behind a proxy) and ALLOWED_HOSTS', () => {
    const allowed = hostChecker({
      host: '127.0.0.1',
      corsOrigins: ['https://chat.example.com', 'http://[2001:db8::2]:8000', '*'],
      allowedHosts: ['intranet-chat', 'box.lan:8443', '*.team.example', '.corp.example']
    })
    for (const ok of ['chat.example.com', 'chat.example.com:443', '[2001:db8::2]:8000', 'intranet-chat:8000', 'INTRANET-CHAT',
      'box.lan:8443', 'a.team.example', 'x.y.team.example:8000', 'a.corp.example']) expect(allowed(ok), ok).toBe(true)
    for (const bad of ['example.com', 'evil-chat.example.com', 'box.lan', 'box.lan:8000', 'team.example', 'evilteam.example', 'corp.example',
      '[2001:db8::3]:8000']) expect(allowed(bad), bad).toBe(false)
  })

  it('ALLOWED_HOSTS that is not a list of host names stops the start, naming the setting', () => {
    expect(makeTestConfig({ ALLOWED_HOSTS: ' chat.example.com , *.example.org,box:8443 ' }).allowedHosts).toEqual(['chat.example.com', '*.example.org', 'box:8443'])
    for (const bad of ['http://chat.example.com', 'chat.example.com/path', 'a b', 'host:99999', '*']) {
      expect(() => makeTestConfig({ ALLOWED_HOSTS: bad }), bad).toThrow(ConfigError)
      expect(() => makeTestConfig({ ALLOWED_HOSTS: bad }), bad).toThrow(/ALLOWED_HOSTS/)
    }
  })
})

describe('the app behind its default HOST (127.0.0.1)', () => {
  let t: ListeningApp
  beforeAll(async () => { t = await listeningApp() })
  afterAll(async () => t.close())
  const evil = { host: 'attacker.example:8000' }

  it.each([
    ['GET', '/'], ['GET', '/index.html'], ['GET', '/app.js'], ['GET', '/docs'], ['GET', '/docs/json'], ['GET', '/api/health'],
    ['GET', '/api/rooms'], ['GET', '/media/nothing'], ['GET', '/nothing'], ['POST', '/api/auth/login'], ['OPTIONS', '/api/rooms']
  ] as const)('%s %s with a foreign Host → 421 misdirected_request', async (method, url) => {
    const res = await t.app.inject({ method, url, headers: { ...evil, origin: 'http://attacker.example:8000', 'access-control-request-method': 'GET' } })
    expect(res.statusCode).toBe(421)
    expect(res.json()).toEqual({ error: { code: 'misdirected_request', message: expect.any(String) } })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it('a rebinding page cannot register (nothing is stored)', async () => {
    const username = uniqueName('rebound')
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', headers: evil, payload: { username, password: 'correct horse battery' } })
    expect(res.statusCode).toBe(421)
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'correct horse battery' } })
    expect(login.statusCode).toBe(401)
  })

  it('a rebinding page cannot open a socket, even with a valid token and its own Origin', async () => {
    const { token } = await registerUser(t.app)
    const { status, body } = await refused(t.base, token, { headers: { Host: 'attacker.example:8000', Origin: 'http://attacker.example:8000' } })
    expect(status).toBe(421)
    expect(body).toEqual({ error: { code: 'misdirected_request', message: expect.any(String) } })
    // The same socket by the server's own names works.
    const { port } = t.app.server.address() as AddressInfo
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const socket = await connect(t.base, token, { headers: { Host: host, Origin: `http://${host}` } })
      expect(socket.frames[0]!.type).toBe('ready')
      await socket.close()
    }
  })

  it('what real loopback clients send is accepted (inject\'s localhost:80 too)', async () => {
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200)
    for (const host of ['localhost', 'localhost:8000', '127.0.0.1:8000', '[::1]:8000']) {
      expect((await t.app.inject({ url: '/api/health', headers: { host } })).statusCode, host).toBe(200)
    }
    const res = await fetch(`${t.base}/api/health`)
    expect(res.status).toBe(200)
  })

  /** Writes the request (without ending our side) and collects the answer until the server closes. */
  async function exchange (request: string): Promise<string> {
    const { port } = t.app.server.address() as AddressInfo
    return new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(port, '127.0.0.1', () => socket.write(request))
      let data = ''
      socket.on('data', (chunk) => { data += chunk.toString() })
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
    })
  }

  it('an HTTP/1.0 request without Host → 421', async () => {
    const text = await exchange('GET /api/health HTTP/1.0\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.[01] 421 /)
    expect(JSON.parse(text.split('\r\n\r\n')[1]!).error.code).toBe('misdirected_request')
  })

  it('a refused upgrade gets its 421 and the server closes the connection (no socket left behind)', async () => {
    const { token } = await registerUser(t.app)
    const text = await exchange(`GET /ws?token=${token} HTTP/1.1\r\nHost: attacker.example:8000\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.1 421 /)
  })
})

describe('the app with HOST=0.0.0.0 (the LAN demo) and ALLOWED_HOSTS', () => {
  let t: ListeningApp
  beforeAll(async () => { t = await listeningApp({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'chat.lan' }) })
  afterAll(async () => t.close())

  it('answers by LAN address, by an allowed name, and not by another name', async () => {
    for (const host of ['192.168.1.20:8000', '[fe80::1]:8000', 'chat.lan:8000', 'localhost:8000']) {
      expect((await t.app.inject({ url: '/', headers: { host } })).statusCode, host).toBe(200)
    }
    expect((await t.app.inject({ url: '/', headers: { host: 'attacker.example:8000' } })).statusCode).toBe(421)
    const { token } = await registerUser(t.app)
    const socket = await connect(t.base, token, { headers: { Host: '192.168.1.20:8000', Origin: 'http://192.168.1.20:8000' } })
    await socket.close()
    expect((await refused(t.base, token, { headers: { Host: 'rebind.attacker.example:8000', Origin: 'http://rebind.attacker.example:8000' } })).status).toBe(421)
  })
})
