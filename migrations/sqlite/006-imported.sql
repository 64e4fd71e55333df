-- 6: what `npm run import` brought in from the original Python app, source id → our id, so a
-- second run imports nothing twice. `source` tells one original database from another.

CREATE TABLE imported (
  source    TEXT NOT NULL,
  kind      TEXT NOT NULL, -- 'user', 'room' or 'message'
  source_id INTEGER NOT NULL,
  target_id INTEGER NOT NULL,
  PRIMARY KEY (source, kind, source_id)
) WITHOUT ROWID;
