-- 7: the message lifecycle (API.md "Message lifecycle"). Every change takes the room's next seq
-- (rooms.last_seq) and sets the message's seq to it, in the change's transaction. A delete keeps
-- the row as a tombstone (body '', attachment NULL, deleted_at set) and removes its edits,
-- reactions, mentions and media rows; earlier versions are Fernet tokens like bodies.

ALTER TABLE messages ADD COLUMN edited_at TEXT;
ALTER TABLE messages ADD COLUMN deleted_at TEXT;
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages (id);
ALTER TABLE messages ADD COLUMN pinned_by INTEGER REFERENCES users (id);
ALTER TABLE messages ADD COLUMN pinned_at TEXT;
CREATE INDEX messages_pinned ON messages (room_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE message_edits (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  body       TEXT NOT NULL, -- the version this edit replaced, a Fernet token
  edited_at  TEXT NOT NULL  -- when that version was replaced
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

-- The emoji is kept as it is (one grapheme, at most 32 bytes): which emoji, not what was said.
-- id orders them: "in order of first use".
CREATE TABLE reactions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  emoji      TEXT NOT NULL,
  user_id    INTEGER NOT NULL REFERENCES users (id),
  UNIQUE (message_id, emoji, user_id)
);

-- Who a message mentions (resolved at send and edit time), by room for mentionCount.
CREATE TABLE mentions (
  message_id INTEGER NOT NULL REFERENCES messages (id),
  user_id    INTEGER NOT NULL REFERENCES users (id),
  room_id    INTEGER NOT NULL REFERENCES rooms (id),
  PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;
CREATE INDEX mentions_user_room ON mentions (user_id, room_id, message_id);

CREATE TABLE mutes (
  user_id INTEGER NOT NULL REFERENCES users (id),
  room_id INTEGER NOT NULL REFERENCES rooms (id),
  PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

-- When the read marker last moved (read receipts), and whether this user shares receipts.
ALTER TABLE read_markers ADD COLUMN read_at TEXT;
ALTER TABLE users ADD COLUMN share_read_receipts INTEGER NOT NULL DEFAULT 1;
