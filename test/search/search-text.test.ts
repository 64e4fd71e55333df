// The search module's pure parts: words, queries, tokens, the check of real text and snippets.
import { describe, expect, it } from 'vitest'
import { Fernet, FernetRing } from '../../src/crypto/fernet.js'
import { verify } from '../../src/search/match.js'
import { parseQuery, QueryError } from '../../src/search/query.js'
import { SearchKeys, TOKEN_BYTES } from '../../src/search/tokens.js'
import { normalizeWord, words } from '../../src/search/text.js'

describe('words', () => {
  it('fold case, strip Latin accents, apply NFKC; keep kana voicing marks', () => {
    expect(normalizeWord('Café')).toBe('cafe')
    expect(normalizeWord('DÉPLOYÉ')).toBe('deploye')
    expect(normalizeWord('Straße')).toBe('strasse')
    expect(normalizeWord('ｆｕｌｌ')).toBe('full')
    expect(normalizeWord('ﬁnance')).toBe('finance')
    expect(normalizeWord('Ǆ')).toBe('dž'.normalize('NFD').replace(/[\u0300-\u036f]/g, ''))
    expect(normalizeWord('が')).not.toBe(normalizeWord('か'))
  })

  it('split on Unicode word boundaries, Japanese and Chinese included, with offsets into the text', () => {
    const text = 'Hello, wörld! 我们明天在北京开会'
    const found = words(text)
    expect(found.map((w) => w.text)).toEqual(['hello', 'world', '我们', '明天', '在', '北京', '开会'])
    for (const w of found) expect(normalizeWord(text.slice(w.start, w.end))).toBe(w.text)
    expect(words('東京都に住んでいます').map((w) => w.text)).toContain('東京')
  })
})

describe('queries', () => {
  it('words, phrases, prefixes and from:', () => {
    expect(parseQuery('Deploy "the new Release" rel* from:Alice_1')).toEqual({
      terms: [{ kind: 'word', word: 'deploy' }, { kind: 'phrase', words: ['the', 'new', 'release'] }, { kind: 'prefix', prefix: 'rel' }],
      from: 'Alice_1'
    })
    expect(parseQuery('from:bob')).toEqual({ terms: [], from: 'bob' })
    // A run of words without spaces is a phrase; an open quote runs to the end; repeats count once.
    expect(parseQuery('e-mail "open quote').terms).toEqual([{ kind: 'phrase', words: ['e', 'mail'] }, { kind: 'phrase', words: ['open', 'quote'] }])
    expect(parseQuery('cafe Café').terms).toEqual([{ kind: 'word', word: 'cafe' }])
  })

  it('refuse what cannot be searched, with a sentence', () => {
    for (const q of ['', '   ', '!!!', 'd*', 'e-ma*', 'from:x', 'from:a from:b', 'a b c d e f g h i j k']) {
      expect(() => parseQuery(q), q).toThrow(QueryError)
    }
  })
})

describe('tokens', () => {
  const key = Fernet.generateKey()
  const keys = new SearchKeys(new FernetRing([key]))

  it('are short keyed hashes, the same for the same word and room, different across rooms and keys', () => {
    const t = keys.word(1, 'deploy')
    expect(t).toMatch(new RegExp(`^[0-9a-f]{${TOKEN_BYTES * 2}}$`))
    expect(new SearchKeys(new FernetRing([key])).word(1, 'deploy')).toBe(t)
    expect(keys.word(2, 'deploy')).not.toBe(t)
    expect(new SearchKeys(new FernetRing([Fernet.generateKey(), key])).word(1, 'deploy')).not.toBe(t)
    // The old key second changes nothing: tokens follow the first (current) key.
    expect(new SearchKeys(new FernetRing([key, Fernet.generateKey()])).fingerprint()).toBe(keys.fingerprint())
  })

  it('for a text: one word token per word in order, prefix tokens of 2–4 characters once each', () => {
    const tokens = keys.forText(1, 'Deploy the deployment')
    expect(tokens.words).toEqual([keys.word(1, 'deploy'), keys.word(1, 'the'), keys.word(1, 'deployment')])
    expect(new Set(tokens.prefixes)).toEqual(new Set([keys.prefix(1, 'de'), keys.prefix(1, 'dep'), keys.prefix(1, 'depl'), keys.prefix(1, 'th'), keys.prefix(1, 'the')]))
    expect(keys.prefix(1, 'deplo')).toBe(keys.prefix(1, 'depl'))
  })
})

describe('checking the real text', () => {
  const q = (text: string) => parseQuery(text).terms

  it('every term must be there; prefixes and phrases checked in full; accents and case ignored', () => {
    expect(verify('We deployed at the Café', q('cafe deplo*'))).not.toBeNull()
    expect(verify('We depleted the stock', q('deplo*'))).toBeNull()
    expect(verify('the release is new', q('"new release"'))).toBeNull()
    expect(verify('a new release', q('"new release"'))).not.toBeNull()
    expect(verify('我们明天在北京开会', q('北京'))).not.toBeNull()
  })

  it('snippet: plain text around the first match, highlights on the matched words', () => {
    const long = `${'filler words here '.repeat(20)}the Déploiement started ${'and then more words '.repeat(20)}`
    const s = verify(long, q('deploiement'))!
    expect(s.snippet.length).toBeLessThanOrEqual(202)
    expect(s.snippet.startsWith('…') && s.snippet.endsWith('…')).toBe(true)
    expect(s.highlights.map((h) => s.snippet.slice(h.start, h.end))).toEqual(['Déploiement'])
    const short = verify('Hello World', q('world'))!
    expect(short).toEqual({ snippet: 'Hello World', highlights: [{ start: 6, end: 11 }] })
  })
})
