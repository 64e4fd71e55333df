// The pure rules of the lifecycle: what a reaction may be, who a body mentions, and how receipts
// are coalesced (at most one per user and room every window, the latest marker winning).
import { describe, expect, it } from 'vitest'
import { isReactionEmoji } from '../../src/lifecycle/emoji.js'
import { mentionedNames, MAX_MENTIONS } from '../../src/lifecycle/mentions.js'
import { createReceipts } from '../../src/lifecycle/receipts.js'
import { ChatEvents } from '../../src/events.js'
import type { Storage } from '../../src/storage/index.js'

describe('isReactionEmoji', () => {
  it('takes one emoji grapheme: modifiers, ZWJ sequences, flags, tag flags, keycaps', () => {
    for (const emoji of ['👍', '👍🏿', '🧑🏽‍💻', '👨‍👩‍👧‍👦', '🇯🇵', '🏴󠁧󠁢󠁥󠁮󠁧󠁿', '#️⃣', '❤️', '©️']) expect(isReactionEmoji(emoji), emoji).toBe(true)
  })
  it('refuses text, two emoji, invisible characters, lone surrogates and anything over 32 bytes', () => {
    for (const bad of ['', 'a', 'ok', '👍👍', '👍 ', '\u200b👍', '\ud83d', '🇯', '1', '👍'.repeat(1000), '👨‍👩‍👧‍👦'.repeat(2)]) {
      expect(isReactionEmoji(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('mentionedNames', () => {
  it('finds @names not inside a word, case-insensitively, once each, without trailing punctuation', () => {
    expect(mentionedNames('hi @Alice, @bob. and @ALICE; mail@carol.com @x @dave-')).toEqual(['alice', 'bob', 'dave'])
  })
  it('looks up at most MAX_MENTIONS names', () => {
    const body = [...Array(100).keys()].map((i) => `@user${i}`).join(' ')
    expect(mentionedNames(body)).toHaveLength(MAX_MENTIONS)
  })
})

describe('receipts', () => {
  it('sends the first at once, then at most one per window with the latest marker', async () => {
    const events = new ChatEvents()
    const seen: number[] = []
    events.on('receipt', (r) => seen.push(r.lastReadId))
    const receipts = createReceipts({} as Storage, events, 100)
    const user = { id: 1, username: 'a' }
    receipts.offer(1, user, 10)
    receipts.offer(1, user, 11)
    receipts.offer(1, user, 12)
    receipts.offer(2, user, 5) // another room has its own window
    expect(seen).toEqual([10, 5])
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(seen).toEqual([10, 5, 12])
    receipts.close()
  })
})
