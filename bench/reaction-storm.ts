// The lifecycle bench's reaction storm, in a process of its own (forked by bench/lifecycle.ts):
// each user toggles one emoji on the target message (PUT, DELETE, PUT …) as fast as the answers
// come, until told to stop; then it reports how many reactions were made. Out of the measuring
// process, so the storm's requests never delay the listeners that time the deliveries.
import { performance } from 'node:perf_hooks'

export interface StormOrder { base: string, tokens: string[], roomId: number, messageId: number }
export interface StormReport { reactions: number, seconds: number, failed: string | null }

const EMOJI = ['👍', '🎉', '❤️', '😀', '🔥'].map((e) => encodeURIComponent(e))

async function storm (order: StormOrder, stopped: Promise<void>): Promise<StormReport> {
  let stop = false
  void stopped.then(() => { stop = true })
  let reactions = 0
  let failed: string | null = null
  const started = performance.now()
  // The answer (the whole message) is read, not parsed.
  const toggle = async (token: string, method: 'PUT' | 'DELETE', emoji: string): Promise<void> => {
    const path = `/api/rooms/${order.roomId}/messages/${order.messageId}/reactions/${emoji}`
    const res = await fetch(order.base + path, { method, headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
  }
  await Promise.all(order.tokens.map(async (token, i) => {
    const emoji = EMOJI[i % EMOJI.length]!
    try {
      while (!stop) {
        await toggle(token, 'PUT', emoji)
        await toggle(token, 'DELETE', emoji)
        reactions += 2
      }
    } catch (error) {
      failed ??= (error as Error).message
      stop = true
    }
  }))
  return { reactions, seconds: (performance.now() - started) / 1000, failed }
}

// Forked: the order comes as the first IPC message, "stop" as the second; the report goes back.
if (process.send !== undefined) {
  let stopNow: () => void = () => {}
  const stopped = new Promise<void>((resolve) => { stopNow = resolve })
  process.on('message', (message: StormOrder | 'stop') => {
    if (message === 'stop') return stopNow()
    process.send!('started')
    void storm(message, stopped).then((report) => process.send!(report, () => process.exit(0)))
  })
}
