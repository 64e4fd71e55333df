// The socket caps, checked in one place for both the HTTP refusal before the upgrade and the close
// at the upgrade: which cap answers, with what.
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { capRefusal } from '../../src/realtime/admission.js'
import { Client, Hub, OPEN, type HubSocket } from '../../src/realtime/hub.js'

const FAR = Math.floor(Date.now() / 1000) + 3600
const fakeSocket = (): HubSocket => ({ readyState: OPEN, bufferedAmount: 0, send () {}, close () {}, terminate () {}, ping () {} })
function hubWith (userIds: number[]): Hub {
  const hub = new Hub({ maxBufferBytes: 1e6 })
  for (const id of userIds) hub.add(new Client(fakeSocket(), { id, username: `u${id}` }, `jti${id}`, FAR))
  return hub
}

describe('capRefusal', () => {
  it('lets a socket in while both caps have room, and 0 means no cap', () => {
    const hub = hubWith([1, 1, 2])
    expect(capRefusal(hub, { maxSockets: 4, maxSocketsPerUser: 3 }, 1)).toBeNull()
    expect(capRefusal(hub, { maxSockets: 0, maxSocketsPerUser: 0 }, 1)).toBeNull()
  })

  it('a user at their cap: 429 too_many_sockets with Retry-After; another user still fits', () => {
    const hub = hubWith([1, 1, 2])
    const refusal = capRefusal(hub, { maxSockets: 0, maxSocketsPerUser: 2 }, 1)
    expect(refusal).toBeInstanceOf(AppError)
    expect(refusal).toMatchObject({ statusCode: 429, code: 'too_many_sockets', headers: { 'Retry-After': '5' } })
    expect(refusal?.message).toContain('At most 2 open connections')
    expect(capRefusal(hub, { maxSockets: 0, maxSocketsPerUser: 2 }, 2)).toBeNull()
  })

  it('the server at its total cap: 503 unavailable, whoever asks (it is checked first)', () => {
    const hub = hubWith([1, 1, 2])
    expect(capRefusal(hub, { maxSockets: 3, maxSocketsPerUser: 0 }, 3)).toMatchObject({ statusCode: 503, code: 'unavailable' })
    expect(capRefusal(hub, { maxSockets: 3, maxSocketsPerUser: 2 }, 1)).toMatchObject({ statusCode: 503, code: 'unavailable' })
  })
})
