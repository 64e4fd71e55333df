-- 5: the search index (src/search), as on SQLite: keyed hashes of words (hex), never words, one
-- row per indexed message. `tokens` is a tsvector written literally (no text search parser or
-- dictionary touches it): word tokens with their positions (phrases, ts_rank), prefix tokens
-- (a `p` before the hex) without. The key the tokens were made with is named in meta, 'search_key'.
CREATE TABLE message_search (
  message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  tokens     tsvector NOT NULL
);
CREATE INDEX message_search_tokens ON message_search USING gin (tokens);
