-- 7: conversations (API.md "Conversations" and "Moderation"): a room's kind and archived flag,
-- server administrators, room members with their roles, bans, and the append-only audit log.
-- A DM is found by its member set: dm_key is the sorted participant ids ("3,8,12"), unique.
-- The earliest account of an existing database becomes its administrator, as the first account
-- of a new one does.

ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_admin = 1 WHERE id = (SELECT min(id) FROM users);

ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'private', 'dm'));
ALTER TABLE rooms ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN dm_key TEXT;
CREATE UNIQUE INDEX rooms_dm_key ON rooms (dm_key);

CREATE TABLE room_members (
  room_id   INTEGER NOT NULL REFERENCES rooms (id),
  user_id   INTEGER NOT NULL REFERENCES users (id),
  role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
  joined_at TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
-- The room list joins on (user, room): a caller's memberships are one range.
CREATE INDEX room_members_user ON room_members (user_id, room_id);

CREATE TABLE room_bans (
  room_id INTEGER NOT NULL REFERENCES rooms (id),
  user_id INTEGER NOT NULL REFERENCES users (id),
  by_id   INTEGER NOT NULL REFERENCES users (id),
  reason  TEXT,
  at      TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

-- Append-only. No message text, ever; message_id has no foreign key so that an entry outlives
-- the message it describes.
CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id    INTEGER NOT NULL REFERENCES rooms (id),
  action     TEXT NOT NULL,
  actor_id   INTEGER NOT NULL REFERENCES users (id),
  target_id  INTEGER REFERENCES users (id),
  message_id INTEGER,
  reason     TEXT,
  at         TEXT NOT NULL
);
CREATE INDEX audit_log_room ON audit_log (room_id, id);

-- Which room an upload was shared in, so private rooms' files answer only to their members.
-- NULL for files uploaded before this (all in public rooms).
ALTER TABLE media ADD COLUMN room_id INTEGER REFERENCES rooms (id);
