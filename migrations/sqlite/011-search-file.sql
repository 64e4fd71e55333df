-- 11: the search index moves to a file of its own beside the database (src/storage/search-index.ts),
-- written by a thread that is not the event loop's, so that indexing never holds this file's
-- write lock. The old table goes (secure_delete zeroes its pages) and so does the name of the key
-- it was made with: the new index is built in the background at start.
DROP TABLE IF EXISTS message_search;
DELETE FROM meta WHERE key = 'search_key';
