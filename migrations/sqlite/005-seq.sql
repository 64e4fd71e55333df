-- 5: seq, each room's change counter (API.md "seq"): every message takes its room's next one
-- from rooms.last_seq, in the transaction that inserts it, so a room's seqs are 1, 2, 3… in
-- commit order with no gap. Existing messages are numbered in id order, per room.

ALTER TABLE rooms ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET seq = numbered.seq
  FROM (SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY id) AS seq FROM messages) AS numbered
  WHERE messages.id = numbered.id;
UPDATE rooms SET last_seq = coalesce((SELECT max(seq) FROM messages WHERE room_id = rooms.id), 0);
CREATE UNIQUE INDEX messages_room_seq ON messages (room_id, seq);
