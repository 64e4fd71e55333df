-- 1: users, rooms, messages, revoked tokens, read markers, and a key-check row in meta.

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
