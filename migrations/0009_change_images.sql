-- Insert speed (issue 15): a change's images in a table of their own, and only the indexes
-- the queries use.
--
-- 1. change_images holds a change's DynamoDB old and new images (one row per change that has
--    an image; a change with neither has none). changes keeps the short columns, so a status
--    update rewrites a short row and the readers that need no image (counts, replay's facts,
--    error groups, verify's walk) never load one; the readers of a ChangeRecord join it.
--    Existing images are copied as they are, text for text: a change's fingerprint, recorded
--    in the chain at ingest, hashes its images as read through the join (RowFingerprint), so
--    existing chains still verify. Then the columns go (SQLite rewrites the table once per
--    dropped column; ids and the AUTOINCREMENT counter stay).
CREATE TABLE change_images (
    change_id INTEGER PRIMARY KEY REFERENCES changes (id),
    old_image_json TEXT,
    new_image_json TEXT
) STRICT;

INSERT INTO change_images (change_id, old_image_json, new_image_json)
SELECT id, old_image_json, new_image_json FROM changes
WHERE old_image_json IS NOT NULL OR new_image_json IS NOT NULL ORDER BY id;

ALTER TABLE changes DROP COLUMN old_image_json;
ALTER TABLE changes DROP COLUMN new_image_json;

-- 2. Indexes no query needs, each one more b-tree written by every insert:
--    * changes_message: no query reads a message's changes, and messages are never deleted or
--      re-keyed, so the foreign key never looks a message's changes up either;
--    * changes_document_sequence (document_id, sequence_key, id): changes_document
--      (document_id, id) finds the same rows — a document's changes, which history,
--      newestKnownSequences and documentFacts read whole and put in sequence order themselves.
DROP INDEX changes_message;
DROP INDEX changes_document_sequence;
