// @username mentions (API.md "Mentions"): case-insensitive, not inside a word, only of people
// who may read the room (conversations/access.ts decides). The author is never mentioned.
import { roomAccess } from '../conversations/access.js'
import type { Author, Storage } from '../storage/index.js'

/** A message can name at most this many people; more @names than that are not looked up. */
export const MAX_MENTIONS = 20

// Not after a word character (so "mail@example.com" is no mention); a username's characters.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]{3,32})/gu

/** The distinct names after "@" in the text, in order, lowercase (a trailing "." or "-" is punctuation). */
export function mentionedNames (body: string): string[] {
  if (!body.includes('@')) return []
  const names = new Set<string>()
  for (const match of body.matchAll(MENTION)) {
    const name = match[1]!.replace(/[.-]+$/, '').toLowerCase()
    if (name.length >= 3) names.add(name)
    if (names.size >= MAX_MENTIONS) break
  }
  return [...names]
}

export type MentionResolver = (roomId: number, author: Author, body: string) => Promise<Author[]>

export function createMentionResolver (storage: Storage): MentionResolver {
  return async (roomId, author, body) => {
    const names = mentionedNames(body)
    if (names.length === 0) return []
    const out: Author[] = []
    for (const name of names) {
      const found = await storage.users.findForLogin(name)
      if (found === null || found.user.id === author.id) continue
      const user = found.user as { id: number, username: string, isAdmin?: boolean }
      try {
        await roomAccess(storage, { id: user.id, isAdmin: user.isAdmin === true }, roomId)
      } catch {
        continue // may not read the room (or is banned from it): not mentioned
      }
      out.push({ id: user.id, username: user.username })
    }
    return out
  }
}
