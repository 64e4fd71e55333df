// App events out to sockets: REST sends, uploads and socket sends all arrive here after commit,
// and so do new rooms and logouts.
import type { ChatEvents } from '../events.js'
import type { Message, Room } from '../storage/index.js'
import { CloseCode, type Hub } from './hub.js'

/** Starts relaying; returns what stops it. */
export function relayEvents (events: ChatEvents, hub: Hub): () => void {
  const onMessage = (message: Message): void => hub.message({ type: 'message', message })
  const onRoom = (room: Room): void => hub.broadcastAll({ type: 'room', room })
  const onRevoked = (jti: string): void => hub.closeToken(jti, CloseCode.unauthorized, 'logged out')
  events.on('message', onMessage)
  events.on('room', onRoom)
  events.on('revoked', onRevoked)
  return () => {
    events.off('message', onMessage)
    events.off('room', onRoom)
    events.off('revoked', onRevoked)
  }
}
