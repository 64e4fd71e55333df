// App events out to sockets: REST sends, uploads and socket sends all arrive here after commit,
// and so do new and changed rooms, membership changes, removals and logouts.
import type { Audience, ChatEvents, ConversationFrame, RemovalReason } from '../events.js'
import type { Message } from '../storage/index.js'
import { CloseCode, type Hub } from './hub.js'

/** Starts relaying; returns what stops it. */
export function relayEvents (events: ChatEvents, hub: Hub): () => void {
  const onMessage = (message: Message): void => hub.message({ type: 'message', message })
  const onConversation = (frame: ConversationFrame, audience: Audience): void => hub.deliver(frame, audience)
  const onRemoved = (roomId: number, userId: number, reason: RemovalReason): void => hub.removeUser(roomId, userId, reason)
  const onRevoked = (jti: string): void => hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
  events.on('message', onMessage)
  events.on('conversation', onConversation)
  events.on('removed', onRemoved)
  events.on('revoked', onRevoked)
  return () => {
    events.off('message', onMessage)
    events.off('conversation', onConversation)
    events.off('removed', onRemoved)
    events.off('revoked', onRevoked)
  }
}
