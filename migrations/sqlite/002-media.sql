-- 2: uploaded files, served at /media/<name>. original_name is a Fernet token, like message
-- bodies. message_id is set once the message that shares the file has committed; a row without
-- one is an upload that failed or was cut short by a crash (its file is unreferenced).

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
