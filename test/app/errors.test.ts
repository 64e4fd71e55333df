// The one error catalogue: REST statuses and socket frame codes both come from it.
import { describe, expect, expectTypeOf, it } from 'vitest'
import { AppError, catalogue, errorBody, errors, type ErrorCode } from '../../src/errors.js'
import type { ErrorFrame } from '../../src/realtime/protocol.js'

describe('the error catalogue', () => {
  it('gives every AppError its status and, when none is given, its sentence', () => {
    for (const code of Object.keys(catalogue) as ErrorCode[]) {
      const error = new AppError(code)
      expect([code, error.statusCode, error.message]).toEqual([code, catalogue[code].status, catalogue[code].message])
      expect(new AppError(code, 'Said otherwise.').message).toBe('Said otherwise.')
    }
    expect(errors.roomNotFound()).toMatchObject({ statusCode: 404, code: 'room_not_found', message: 'No room has that id.' })
    expect(errors.rateLimited(0.2)).toMatchObject({ statusCode: 429, headers: { 'Retry-After': '1' } })
  })

  it('codes are snake_case and statuses are client or server errors', () => {
    for (const [code, { status, message }] of Object.entries(catalogue)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/)
      expect(status >= 400 && status < 600, code).toBe(true)
      expect(message).toMatch(/^[A-Z].*\.$/)
    }
  })

  it('a socket error frame and a REST error body take only catalogue codes (checked by tsc)', () => {
    expectTypeOf<ErrorFrame['code']>().toEqualTypeOf<ErrorCode>()
    // @ts-expect-error a code that is not in the catalogue
    const frame: ErrorFrame = { type: 'error', code: 'no_such_code', message: 'x' }
    // @ts-expect-error the same for REST
    const body = errorBody('no_such_code', 'x')
    expect([frame.code, body.error.code]).toEqual(['no_such_code', 'no_such_code'])
    expect(Object.hasOwn(catalogue, 'no_such_code')).toBe(false)
  })
})
