// App events out to sockets: REST sends, uploads and socket sends all arrive here after commit,
// and so do new and changed rooms, membership changes, removals and logouts.
import type { Audience, ChatEvents, ConversationFrame, RemovalReason } from '../events.js'
import type { Author, Message } from '../storage/index.js'
import { CloseCode, type Hub } from './hub.js'

/** Starts relaying; returns what stops it. */
export function relayEvents (events: ChatEvents, hub: Hub): () => void {
  const onMessage = (message: Message): void => hub.message({ type: 'message', message })
  const onUpdated = (message: Message): void => hub.roomFrame(message.roomId, { type: 'message_updated', message })
  const onMention = (message: Message, userIds: readonly number[]): void => hub.toUsers(userIds, { type: 'mention', message })
  const onReceipt = (r: { roomId: number, user: Author, lastReadId: number }): void =>
    hub.roomFrame(r.roomId, { type: 'receipt', roomId: r.roomId, user: r.user, lastReadId: r.lastReadId })
  const onConversation = (frame: ConversationFrame, audience: Audience): void => hub.deliver(frame, audience)
  const onRemoved = (roomId: number, userId: number, reason: RemovalReason): void => hub.removeUser(roomId, userId, reason)
  const onRevoked = (jti: string): void => hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
  events.on('message', onMessage)
  events.on('conversation', onConversation)
  events.on('removed', onRemoved)
  events.on('revoked', onRevoked)
  events.on('message_updated', onUpdated)
  events.on('mention', onMention)
  events.on('receipt', onReceipt)
  return () => {
    events.off('message_updated', onUpdated)
    events.off('mention', onMention)
    events.off('receipt', onReceipt)
    events.off('message', onMessage)
    events.off('conversation', onConversation)
    events.off('removed', onRemoved)
    events.off('revoked', onRevoked)
  }
}
