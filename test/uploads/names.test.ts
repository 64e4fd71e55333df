import { describe, expect, it } from 'vitest'
import { cleanFileName, contentDisposition, STORED_NAME, storedName } from '../../src/uploads/names.js'
import { parseRange } from '../../src/uploads/range.js'

const jpg = ['jpg', 'jpeg'] as const

describe('cleanFileName', () => {
  it('keeps an ordinary name', () => {
    expect(cleanFileName('holiday.jpg', 'jpg', jpg)).toBe('holiday.jpg')
    expect(cleanFileName('Été à Paris.JPEG', 'jpg', jpg)).toBe('Été à Paris.JPEG')
  })

  it('drops directories, both separators', () => {
    expect(cleanFileName('../../x.jpg', 'jpg', jpg)).toBe('x.jpg')
    expect(cleanFileName('..\\..\\windows\\x.jpg', 'jpg', jpg)).toBe('x.jpg')
    expect(cleanFileName('/etc/passwd', 'txt', ['txt'])).toBe('passwd.txt')
  })

  it('removes control characters, bidi overrides and zero-width characters', () => {
    // "invoice\u202Egpj.exe" shows as "invoiceexe.jpg" in a bidi-aware UI.
    expect(cleanFileName('invoice\u202egpj.exe', 'pdf', ['pdf'])).toBe('invoicegpj.exe.pdf')
    expect(cleanFileName('a\u0000b\u0007c\u001b\u007f\u200bd\u2066.jpg', 'jpg', jpg)).toBe('abcd.jpg')
    expect(cleanFileName('two\nlines.jpg', 'jpg', jpg)).toBe('two lines.jpg')
  })

  it('adds the detected extension when the name does not fit the type', () => {
    expect(cleanFileName('notes.js', 'txt', ['txt'])).toBe('notes.js.txt')
    expect(cleanFileName('photo.png', 'jpg', jpg)).toBe('photo.png.jpg')
    expect(cleanFileName('README', 'txt', ['txt'])).toBe('README.txt')
  })

  it('strips leading dots and falls back to "file"', () => {
    expect(cleanFileName('.htaccess', 'txt', ['txt'])).toBe('htaccess.txt')
    expect(cleanFileName('...', 'pdf', ['pdf'])).toBe('file.pdf')
    expect(cleanFileName('', 'pdf', ['pdf'])).toBe('file.pdf')
    expect(cleanFileName('\u202e\u0000', 'pdf', ['pdf'])).toBe('file.pdf')
  })

  it('cuts long names to 200 characters, keeping the extension', () => {
    const name = cleanFileName(`${'a'.repeat(1000)}.jpg`, 'jpg', jpg)
    expect(name).toHaveLength(200)
    expect(name.endsWith('a.jpg')).toBe(true)
    const emoji = cleanFileName(`${'😀'.repeat(300)}.jpg`, 'jpg', jpg)
    expect([...emoji]).toHaveLength(200)
    expect(emoji.endsWith('😀.jpg')).toBe(true)
  })
})

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)', () => {
    expect(contentDisposition('attachment', 'report.pdf')).toBe('attachment; filename="report.pdf"; filename*=UTF-8\'\'report.pdf')
    expect(contentDisposition('inline', 'Été "1" (a)\'s;%.jpg'))
      .toBe('inline; filename="_t_ _1_ (a)\'s__.jpg"; filename*=UTF-8\'\'%C3%89t%C3%A9%20%221%22%20%28a%29%27s%3B%25.jpg')
  })
})

describe('stored names', () => {
  it('are 128 random bits and match the served-name pattern', () => {
    const a = storedName('jpg')
    expect(a).toMatch(/^[0-9a-f]{32}\.jpg$/)
    expect(STORED_NAME.test(a)).toBe(true)
    expect(storedName('jpg')).not.toBe(a)
    for (const bad of ['../chat.db', '.tmp-0123', `${'a'.repeat(32)}.jpg/..`, `${'A'.repeat(32)}.jpg`, `${'a'.repeat(32)}.jpg\u0000`]) {
      expect(STORED_NAME.test(bad)).toBe(false)
    }
  })
})

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-', { start: 10, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=90-500', { start: 90, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-1', null],
    ['bytes=0-1,5-6', null],
    ['items=0-1', null],
    ['bytes=-', null]
  ] as const)('%s of 100 bytes', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected)
  })
  it('no header: whole file', () => expect(parseRange(undefined, 100)).toBeNull())
})
