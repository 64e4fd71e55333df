// Read receipts (API.md "Read receipts"): after a `read` frame moved the caller's marker, a
// receipt goes to the room, only in private rooms and DMs, only for users who share them, and
// coalesced: at most one per user and room every 2 s, the latest marker winning (a trailing one
// goes out when the window ends, so the last read is never lost).
import type { ChatEvents } from '../events.js'
import type { Author, Storage } from '../storage/index.js'
import { roomKind } from './service.js'

export const RECEIPT_WINDOW_MS = 2000

interface Slot { sentAt: number, pending: number | null, timer: ReturnType<typeof setTimeout> | null, user: Author }

export function createReceipts (storage: Storage, events: ChatEvents, windowMs = RECEIPT_WINDOW_MS) {
  const slots = new Map<string, Slot>()

  const emit = (roomId: number, slot: Slot, lastReadId: number): void => {
    slot.sentAt = performance.now()
    slot.pending = null
    events.emit('receipt', { roomId, user: slot.user, lastReadId })
  }

  /** Offers the marker as it now stands; sends it now, later (coalesced) or not at all. */
  function offer (roomId: number, user: Author, lastReadId: number): void {
    const key = `${roomId}:${user.id}`
    let slot = slots.get(key)
    if (slot === undefined) {
      slot = { sentAt: -Infinity, pending: null, timer: null, user }
      slots.set(key, slot)
    }
    const wait = slot.sentAt + windowMs - performance.now()
    if (wait <= 0 && slot.timer === null) return emit(roomId, slot, lastReadId)
    slot.pending = lastReadId
    if (slot.timer !== null) return
    const s = slot
    s.timer = setTimeout(() => {
      s.timer = null
      if (s.pending !== null) emit(roomId, s, s.pending)
      // Forget quiet slots so the map holds only users reading right now.
      setTimeout(() => { if (s.timer === null && s.pending === null && slots.get(key) === s) slots.delete(key) }, windowMs).unref()
    }, Math.max(0, wait))
    s.timer.unref()
  }

  return {
    offer,
    /** After the marker moved by a `read` frame: a receipt when the room shows them and the user shares them. */
    async afterRead (roomId: number, user: Author): Promise<void> {
      const room = await storage.rooms.get(roomId)
      if (room === null || roomKind(room) === 'public') return
      if (!await storage.lifecycle.sharesReadReceipts(user.id)) return
      const marker = await storage.lifecycle.readMarker(user.id, roomId)
      if (marker !== null) offer(roomId, user, marker)
    },
    close (): void {
      for (const slot of slots.values()) if (slot.timer !== null) clearTimeout(slot.timer)
      slots.clear()
    }
  }
}

export type Receipts = ReturnType<typeof createReceipts>
