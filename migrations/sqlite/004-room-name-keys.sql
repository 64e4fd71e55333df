-- 4: room names compare by a stricter key (src/text/names.ts): NFKC, case folding, without
-- invisible characters or accents, look-alike letters folded. Rooms whose names now fold
-- together are all kept: the later one's key gets a suffix that no typed name can produce.
-- SQL cannot compute that key, so this migration is a step in code, named here and kept in
-- src/storage/migrate/steps.ts.

-- step: room-name-keys
