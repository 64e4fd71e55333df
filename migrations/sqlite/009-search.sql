-- 9: the search index (src/search). It holds no text: `content=''` keeps only FTS5's inverted
-- index, and what goes into it is keyed hashes of words (hex), never words. Keyed by message id
-- (rowid); `contentless_delete` lets edits and deletes remove a message's tokens; positions are
-- kept (the default detail=full) for phrases and ranking. `words` holds one token per word in text
-- order, `prefixes` the tokens of words' first 2–4 characters. The key the tokens were made with
-- is named (by a keyed fingerprint) in meta, key 'search_key': a new key empties the index.
CREATE VIRTUAL TABLE message_search USING fts5(words, prefixes, content = '', contentless_delete = 1, tokenize = 'ascii');

-- Deleted messages (tombstones, migration 8) are never indexed; this small partial index lets the
-- index's progress count them without scanning every message.
CREATE INDEX messages_deleted ON messages (id) WHERE deleted_at IS NOT NULL;
