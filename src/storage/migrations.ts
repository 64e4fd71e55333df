// Versioned schema changes, applied in order at start; `PRAGMA user_version` records the last one.
// Never edit a released migration: add the next one. A migration is SQL, or a function for what
// SQL cannot compute; both run inside the one start-up transaction.
import { roomNameKey } from '../text/names.js'
import type { Db } from './database.js'

export type Migration = string | ((db: Db, log: (message: string) => void) => void)

export const migrations: readonly Migration[] = [
  // 1: users, rooms, messages, revoked tokens, read markers, and a key-check row in meta.
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
  );

  CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE, -- name folded for case-insensitive uniqueness and ordering
    topic       TEXT NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users (id),
    created_at  TEXT NOT NULL
  );

  -- body (and attachment, when present) are Fernet tokens: plaintext never reaches the file.
  -- AUTOINCREMENT so that ids, the catch-up cursor, are never reused.
  CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id     INTEGER NOT NULL REFERENCES rooms (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    body        TEXT NOT NULL,
    attachment  TEXT,
    client_id   TEXT,
    created_at  TEXT NOT NULL
  );
  -- History pages are range scans on (room_id, id): as fast at a million rows as at ten.
  CREATE INDEX messages_room_id ON messages (room_id, id);
  -- Safe retries: one row per (room, sender, clientId). NULL client ids never collide.
  CREATE UNIQUE INDEX messages_client_id ON messages (room_id, user_id, client_id);

  CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL -- seconds; the row can go once the token would have expired anyway
  ) WITHOUT ROWID;

  CREATE TABLE read_markers (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    room_id      INTEGER NOT NULL REFERENCES rooms (id),
    last_read_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
  ) WITHOUT ROWID;

  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: uploaded files, served at /media/<name>. original_name is a Fernet token, like message
  // bodies. message_id is set once the message that shares the file has committed; a row without
  // one is an upload that failed or was cut short by a crash (its file is unreferenced).
  `
  CREATE TABLE media (
    name          TEXT PRIMARY KEY, -- random, also the file name in MEDIA_DIR
    mime          TEXT NOT NULL,
    original_name TEXT NOT NULL,
    size          INTEGER NOT NULL,
    uploader_id   INTEGER NOT NULL REFERENCES users (id),
    message_id    INTEGER REFERENCES messages (id),
    created_at    TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX media_uploader ON media (uploader_id);
  `,
  // 3: counters that make the room list cost O(rooms) whatever the rooms hold. unread = the
  // room's messages − those at or under the marker − the user's own after it, i.e.
  // message_count − read_count − (sent − read_own). Kept in the transaction that inserts a
  // message (and moves a marker); messages are never deleted. Backfilled here, counting from the
  // newest message back (markers sit near it, so that reads little).
  `
  ALTER TABLE rooms ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE read_markers ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0; -- messages with id <= last_read_id
  ALTER TABLE read_markers ADD COLUMN read_own INTEGER NOT NULL DEFAULT 0;   -- of those, the user's own
  CREATE TABLE sent_counts (
    user_id INTEGER NOT NULL REFERENCES users (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    sent    INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
  ) WITHOUT ROWID;

  UPDATE rooms SET message_count = (SELECT count(*) FROM messages WHERE room_id = rooms.id);
  INSERT INTO sent_counts (user_id, room_id, sent) SELECT user_id, room_id, count(*) FROM messages GROUP BY user_id, room_id;
  UPDATE read_markers SET
    read_count = (SELECT message_count FROM rooms WHERE id = read_markers.room_id)
      - (SELECT count(*) FROM messages WHERE room_id = read_markers.room_id AND id > read_markers.last_read_id),
    read_own = coalesce((SELECT sent FROM sent_counts WHERE user_id = read_markers.user_id AND room_id = read_markers.room_id), 0)
      - (SELECT count(*) FROM messages
         WHERE room_id = read_markers.room_id AND id > read_markers.last_read_id AND user_id = read_markers.user_id);
  `,
  // 4: room names compare by a stricter key (src/text/names.ts): NFKC, case folding, without
  // invisible characters or accents, look-alike letters folded. Rooms whose names now fold
  // together are all kept: the later one's key gets a suffix that no typed name can produce.
  (db, log) => {
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
  },
  // 5: seq, each room's change counter (API.md "seq"): every message takes its room's next one
  // from rooms.last_seq, in the transaction that inserts it, so a room's seqs are 1, 2, 3… in
  // commit order with no gap. Existing messages are numbered in id order, per room.
  `
  ALTER TABLE rooms ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  UPDATE messages SET seq = numbered.seq
    FROM (SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY id) AS seq FROM messages) AS numbered
    WHERE messages.id = numbered.id;
  UPDATE rooms SET last_seq = coalesce((SELECT max(seq) FROM messages WHERE room_id = rooms.id), 0);
  CREATE UNIQUE INDEX messages_room_seq ON messages (room_id, seq);
  `
]
