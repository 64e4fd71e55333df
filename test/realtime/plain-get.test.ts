// GET /ws without the upgrade headers (a browser tab, curl) is told what the address is for, in the
// contract's error shape, instead of an empty 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, registerUser, type TestApp } from '../helper.js'

let t: TestApp
let token: string

beforeAll(async () => {
  t = await buildTestApp()
  token = (await registerUser(t.app)).token
})
afterAll(async () => t.close())

describe('a plain GET /ws', () => {
  it('with a token: 426 upgrade_required, Upgrade: websocket', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/ws?token=${token}` })
    expect(res.statusCode).toBe(426)
    expect(res.headers.upgrade).toBe('websocket')
    expect(res.json()).toMatchObject({ error: { code: 'upgrade_required' } })
  })

  it('without a token: 401 as before', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ws' })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('unauthorized')
  })
})
