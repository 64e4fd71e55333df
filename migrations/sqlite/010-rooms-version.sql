-- 10: a version of the rooms' static columns (name, topic, kind, archived; new and removed rooms),
-- bumped by triggers in the same transaction as any change to them, whoever makes it (this node,
-- another process on the same file, an import, a migration). The room list keeps those columns in
-- memory and reads per call only what moves (seq, counters, the caller's marker and role), so it
-- must learn of a rename at once: it compares this number on every call (one key lookup).
INSERT INTO meta (key, value) VALUES ('rooms_version', '0') ON CONFLICT (key) DO NOTHING;
CREATE TRIGGER rooms_version_insert AFTER INSERT ON rooms
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rooms_version'; END;
CREATE TRIGGER rooms_version_update AFTER UPDATE OF name, name_key, topic, kind, archived, created_by ON rooms
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rooms_version'; END;
CREATE TRIGGER rooms_version_delete AFTER DELETE ON rooms
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rooms_version'; END;
