// The text rules on their own: well-formedness, "nothing visible", and room names' key and refusals.
import { describe, expect, it } from 'vitest'
import { hasVisibleCharacter, isWellFormed, roomNameKey, roomNameProblem } from '../../src/text/names.js'

describe('isWellFormed', () => {
  it('refuses lone surrogates, high or low, anywhere; accepts pairs', () => {
    for (const bad of ['ab\ud800', '\ud800ab', 'a\udc00b', '\udc00\ud800', '😀\ud83d']) expect(isWellFormed(bad), JSON.stringify(bad)).toBe(false)
    for (const good of ['', 'abc', '😀', 'été', '\uffff', '👨‍👩‍👧']) expect(isWellFormed(good), good).toBe(true)
  })
})

describe('hasVisibleCharacter', () => {
  it('is false for white space, zero-width, format and filler characters alone', () => {
    for (const blank of ['', ' \t\n', '\u200b', '\u200b\u200c\u200d\u2060\ufeff', '\u00ad', '\u3164', '\u2800', '\u180e', '\u034f', '\u0301', '\u00a0\u3000']) {
      expect(hasVisibleCharacter(blank), JSON.stringify(blank)).toBe(false)
    }
  })
  it('is true as soon as one letter, digit, mark of punctuation or emoji shows', () => {
    for (const text of ['a', '\u200b.', '7', '😀', '日', ' é ', '\ue000']) expect(hasVisibleCharacter(text), text).toBe(true)
  })
})

describe('roomNameKey', () => {
  it('folds the issue\'s look-alikes of General onto "general"', () => {
    for (const name of ['General', 'GENERAL', 'general', 'Gen\u200beral', 'Ｇｅｎｅｒａｌ', 'Ge\u0301neral', 'Général', '\u2060General\ufeff', 'Gen\u00aderal']) {
      expect(roomNameKey(name), JSON.stringify(name)).toBe('general')
    }
  })
  it('folds case beyond toLowerCase, and whole-script look-alikes', () => {
    expect(roomNameKey('Straße')).toBe(roomNameKey('STRASSE'))
    expect(roomNameKey('ΟΔΟΣ')).toBe(roomNameKey('οδοσ'))
    expect(roomNameKey('Сое')).toBe(roomNameKey('Coe')) // all Cyrillic
    expect(roomNameKey('ΤΑΧΙ')).toBe(roomNameKey('taxi')) // all Greek
    expect(roomNameKey('Dev   Team')).toBe(roomNameKey('Dev Team'))
  })
  it('keeps different names apart', () => {
    expect(roomNameKey('General')).not.toBe(roomNameKey('Generals'))
    expect(roomNameKey('日本語')).not.toBe(roomNameKey('日本'))
    expect(roomNameKey('Генерал')).not.toBe(roomNameKey('General'))
    expect(roomNameKey('👍')).not.toBe(roomNameKey('👎'))
  })
})

describe('roomNameProblem', () => {
  it('refuses bidi controls, names with nothing visible, and Latin mixed with Cyrillic or Greek', () => {
    expect(roomNameProblem('\u202eGeneral')).toMatch(/bidirectional/)
    expect(roomNameProblem('Gen\u2066eral')).toMatch(/bidirectional/)
    expect(roomNameProblem('General\u200f')).toMatch(/bidirectional/)
    for (const blank of ['\u200b', '\u200b\u2060\u3164', '\u2800\u2800', '\u0301']) expect(roomNameProblem(blank), JSON.stringify(blank)).toMatch(/visible/)
    expect(roomNameProblem('G\u0435neral')).toMatch(/mix/) // Cyrillic е
    expect(roomNameProblem('Gen\u03b5ral')).toMatch(/mix/) // Greek ε
    expect(roomNameProblem('Сое\u03b1')).toMatch(/mix/) // Cyrillic with Greek
  })
  it('accepts single-script names, with digits, emoji and other scripts beside Latin', () => {
    for (const name of ['General', 'Генерал', 'Γενικά', '日本語 chat', 'Team 42 🚀', 'Café', '👨‍👩‍👧 family', 'دردشة']) {
      expect(roomNameProblem(name), name).toBeNull()
    }
  })
})
