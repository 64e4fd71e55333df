-- 3: counters that make the room list cost O(rooms) whatever the rooms hold. unread = the
-- room's messages − those at or under the marker − the user's own after it, i.e.
-- message_count − read_count − (sent − read_own). Kept in the transaction that inserts a
-- message (and moves a marker); messages are never deleted. Backfilled here, counting from the
-- newest message back (markers sit near it, so that reads little).

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
