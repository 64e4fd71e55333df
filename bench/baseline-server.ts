// The bare baseline: the smallest `ws` server on node:http that speaks Secure Chat's frames, with no
// auth, no database and no encryption. It is the ceiling the real server is measured against.
//   ready on connect · join → joined · message → ack to the sender + message to every subscriber
//   (serialised once per broadcast) · typing relay · ping → pong
// Usage: node --import tsx bench/baseline-server.ts   (PORT from the environment; prints "listening <port>")
import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'

interface Author { id: number, username: string }
interface Peer { socket: WebSocket, user: Author, rooms: Set<number> }

const port = Number(process.env.PORT ?? 8001)
const rooms = new Map<number, Set<Peer>>()
let nextUser = 1
let nextMessage = 1

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end('{"status":"ok"}')
})
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 65_536 })

function broadcast (roomId: number, data: string, except?: Peer): void {
  const peers = rooms.get(roomId)
  if (peers === undefined) return
  for (const peer of peers) if (peer !== except && peer.socket.readyState === 1) peer.socket.send(data)
}

wss.on('connection', (socket) => {
  const id = nextUser++
  const peer: Peer = { socket, user: { id, username: `user${id}` }, rooms: new Set() }
  socket.send(JSON.stringify({ type: 'ready', user: { ...peer.user, createdAt: new Date().toISOString() } }))

  socket.on('message', (data) => {
    let frame: { type?: unknown, roomId?: unknown, body?: unknown, clientId?: unknown, isTyping?: unknown }
    try {
      frame = JSON.parse(String(data)) as typeof frame
    } catch {
      socket.send('{"type":"error","code":"invalid_json","message":"Frames must be JSON text."}')
      return
    }
    const roomId = typeof frame.roomId === 'number' ? frame.roomId : 0
    switch (frame.type) {
      case 'join': {
        let peers = rooms.get(roomId)
        if (peers === undefined) rooms.set(roomId, peers = new Set())
        peers.add(peer)
        peer.rooms.add(roomId)
        socket.send(JSON.stringify({ type: 'joined', roomId, online: [peer.user] }))
        return
      }
      case 'leave':
        rooms.get(roomId)?.delete(peer)
        peer.rooms.delete(roomId)
        return
      case 'message': {
        if (!peer.rooms.has(roomId)) {
          socket.send(JSON.stringify({ type: 'error', code: 'not_joined', message: 'Join the room first.' }))
          return
        }
        const clientId = typeof frame.clientId === 'string' ? frame.clientId : null
        const message = {
          id: nextMessage++, roomId, author: peer.user, body: String(frame.body), attachment: null, clientId, createdAt: new Date().toISOString()
        }
        socket.send(JSON.stringify({ type: 'ack', clientId, message }))
        broadcast(roomId, JSON.stringify({ type: 'message', message }))
        return
      }
      case 'typing':
        if (peer.rooms.has(roomId)) broadcast(roomId, JSON.stringify({ type: 'typing', roomId, user: peer.user, isTyping: frame.isTyping === true }), peer)
        return
      case 'ping':
        socket.send('{"type":"pong"}')
        return
      default:
        socket.send(JSON.stringify({ type: 'error', code: 'unknown_type', message: 'Unknown frame type.' }))
    }
  })

  socket.on('close', () => {
    for (const roomId of peer.rooms) rooms.get(roomId)?.delete(peer)
  })
})

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${port}\n`)
})

const stop = (): void => {
  for (const client of wss.clients) client.terminate()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
