// Migration steps SQL cannot compute, named by their migration file (`-- step: NAME`).
import type { Db } from '../database.js'
import { roomNameKey } from '../../text/names.js'

export type Step = (db: Db, log: (message: string) => void) => void

export const sqliteSteps: Readonly<Record<string, Step>> = {
  // migrations/sqlite/004-room-name-keys.sql: every room's key by the stricter rule; rooms whose
  // names now fold together are all kept, the later one's key suffixed (no typed name has U+001F).
  'room-name-keys': (db, log) => {
    const rooms = db.prepare<[], { id: number, name: string }>('SELECT id, name FROM rooms ORDER BY id').all()
    // Out of the way first, so that no new key meets a row's old one on the UNIQUE index.
    db.prepare('UPDATE rooms SET name_key = char(31) || id').run()
    const update = db.prepare<[string, number]>('UPDATE rooms SET name_key = ? WHERE id = ?')
    const first = new Map<string, { id: number, name: string }>()
    for (const room of rooms) {
      let key = roomNameKey(room.name)
      const earlier = first.get(key)
      if (earlier === undefined) {
        first.set(key, room)
      } else {
        key = `${key}\u001f${room.id}`
        log(`Room ${room.id} ${JSON.stringify(room.name)} looks like room ${earlier.id} ${JSON.stringify(earlier.name)}; both are kept, but consider renaming one.`)
      }
      update.run(key, room.id)
    }
  }
}
