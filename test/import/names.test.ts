// The renaming rules, the time conversion and the progress output of `npm run import`, directly.
import { describe, expect, it } from 'vitest'
import { chooseRoomName, chooseUsername, importTopic, isAllowedRoomName, roomNameBase, usernameBase, USERNAME } from '../../src/import/names.js'
import { progressOn } from '../../src/import/progress.js'
import { importTime } from '../../src/import/times.js'
import { originalFile } from '../../src/import/files.js'
import { roomNameKey } from '../../src/text/names.js'
import { Username } from '../../src/auth/schemas.js'

describe('imported user names', () => {
  it.each([
    ['alice', 1, 'alice'],
    ['José García', 2, 'Jose_Garcia'],
    ['Zoë  Smith', 3, 'Zoe_Smith'],
    ['straße', 4, 'strasse'],
    ['Øyvind', 5, 'Oyvind'],
    ['张伟', 6, 'user6'],
    ['Al✓', 7, 'Al_7'],
    ['x@y.com', 8, 'xy.com'],
    ['a'.repeat(50), 9, 'a'.repeat(32)]
  ])('%j (id %i) becomes %j, a name our schema accepts', (raw, id, expected) => {
    const name = chooseUsername(raw, id, new Set())
    expect(name).toBe(expected)
    expect(Username.safeParse(name).success).toBe(true)
    expect(USERNAME.test(usernameBase(raw, id))).toBe(true)
  })

  it('adds _2, _3… on a case-insensitive clash, within 32 characters', () => {
    const taken = new Set(['bob'])
    expect(chooseUsername('Bob', 1, taken)).toBe('Bob_2')
    expect(chooseUsername('BOB', 2, taken)).toBe('BOB_3')
    expect(chooseUsername('b o b', 3, taken)).toBe('b_o_b')
    const long = 'x'.repeat(32)
    taken.add(long)
    expect(chooseUsername('X'.repeat(40), 4, taken)).toBe(`${'X'.repeat(30)}_2`)
  })
})

describe('imported room names', () => {
  it('keeps names we allow, cleans the others, and falls back to "Room <id>"', () => {
    expect(isAllowedRoomName('Random')).toBe(true)
    expect(isAllowedRoomName(' padded ')).toBe(false)
    expect(isAllowedRoomName('r'.repeat(65))).toBe(false)
    expect(roomNameBase('Evil\u202eroom', 4)).toBe('Evilroom')
    expect(roomNameBase('tab\there', 5)).toBe('tabhere')
    expect(roomNameBase('\u200b\u200b', 6)).toBe('Room 6')
    expect(roomNameBase('Pаypal', 7)).toBe('Room 7') // a Cyrillic а among Latin letters
    expect(roomNameBase('😀'.repeat(40), 8)).toBe('😀'.repeat(32)) // cut between characters, not inside one
  })

  it('gives a clash by our name key a (2), (3)…', () => {
    const taken = new Set([roomNameKey('General')])
    expect(chooseRoomName('general', taken)).toBe('general (2)')
    expect(chooseRoomName('GENERAL', taken)).toBe('GENERAL (3)')
    expect(chooseRoomName('Café', taken)).toBe('Café')
    expect(chooseRoomName('Cafe', taken)).toBe('Cafe (2)')
  })

  it('keeps topics within our limits', () => {
    expect(importTopic(null)).toBe('')
    expect(importTopic(' a\u0000b\nc ')).toBe('ab\nc')
    expect(importTopic('t'.repeat(600))).toHaveLength(512)
  })
})

describe('imported times', () => {
  it.each([
    ['2025-06-01 10:00:00.123456', '2025-06-01T10:00:00.123Z'],
    ['2025-06-01 10:00:00', '2025-06-01T10:00:00.000Z'],
    ['2025-06-01T10:00:00.5', '2025-06-01T10:00:00.500Z'],
    ['2025-06-01 10:00:00+02:00', '2025-06-01T08:00:00.000Z'],
    ['2025-02-30 10:00:00', null],
    ['2025-02-30 10:00:00.123456', null],
    ['2024-02-29 23:59:59.999999', '2024-02-29T23:59:59.999Z'],
    ['2025-06-01 24:00:00.000000', null],
    ['yesterday', null],
    [null, null],
    [1717236000, null]
  ])('%j → %j (naive means UTC)', (value, expected) => {
    expect(importTime(value)).toBe(expected)
  })
})

describe('import progress', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = []
    return { out, stream: { isTTY, write: (s: string) => { out.push(s); return true } } as unknown as NodeJS.WriteStream }
  }

  it('draws a bar with counts and rate on a terminal', () => {
    let t = 0
    const { out, stream } = sink(true)
    const progress = progressOn(stream, 'messages', () => t)
    t = 2000
    progress.update(5000, 20_000)
    progress.finish()
    expect(out[0]).toBe(`\r\x1b[2K[${'█'.repeat(7)}${'░'.repeat(21)}]  25% 5,000/20,000 messages · 2,500/s · 6 s left`)
    expect(out[1]).toBe('\n')
  })

  it('writes a plain line every few seconds otherwise, and one at the end', () => {
    let t = 0
    const { out, stream } = sink(false)
    const progress = progressOn(stream, 'messages', () => t)
    t = 1000
    progress.update(1000, 10_000)
    expect(out).toEqual([])
    t = 5000
    progress.update(5000, 10_000)
    t = 6000
    progress.update(6000, 10_000)
    t = 10_000
    progress.update(10_000, 10_000)
    progress.finish() // the last line said it all already
    expect(out).toEqual(['5,000/10,000 messages · 1,000/s · 5 s left\n', '10,000/10,000 messages · 1,000/s\n'])
  })
})

describe('the original\'s file paths', () => {
  it('are read only inside its media folder', () => {
    expect(originalFile('/old/media', '/media/room_1/ab.png')).toBe('/old/media/room_1/ab.png')
    expect(originalFile('/old/media', 'media/room_1/ab.png')).toBe('/old/media/room_1/ab.png')
    for (const path of ['/media/../chat.db', '/media/room_1/../../.fernet_key', '/etc/passwd', '/media//x', '/media/room_1\\..\\x', '/uploads/a.png']) {
      expect(originalFile('/old/media', path), path).toBeNull()
    }
  })
})
