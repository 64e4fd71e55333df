// App events out to sockets: REST sends, uploads and socket sends all arrive here after commit,
// and so do new rooms and logouts.
import type { ChatEvents } from '../events.js'
import type { Author, Message, Room } from '../storage/index.js'
import { CloseCode, type Hub } from './hub.js'

/** Starts relaying; returns what stops it. */
export function relayEvents (events: ChatEvents, hub: Hub): () => void {
  const onMessage = (message: Message): void => hub.message({ type: 'message', message })
  const onRoom = (room: Room): void => hub.broadcastAll({ type: 'room', room })
  const onUpdated = (message: Message): void => hub.roomFrame(message.roomId, { type: 'message_updated', message })
  const onMention = (message: Message, userIds: readonly number[]): void => hub.toUsers(userIds, { type: 'mention', message })
  const onReceipt = (r: { roomId: number, user: Author, lastReadId: number }): void =>
    hub.roomFrame(r.roomId, { type: 'receipt', roomId: r.roomId, user: r.user, lastReadId: r.lastReadId })
  const onRevoked = (jti: string): void => hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
  events.on('message', onMessage)
  events.on('room', onRoom)
  events.on('revoked', onRevoked)
  events.on('message_updated', onUpdated)
  events.on('mention', onMention)
  events.on('receipt', onReceipt)
  return () => {
    events.off('message_updated', onUpdated)
    events.off('mention', onMention)
    events.off('receipt', onReceipt)
    events.off('message', onMessage)
    events.off('room', onRoom)
    events.off('revoked', onRevoked)
  }
}
