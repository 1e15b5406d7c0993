-- PostgreSQL translation of ../0009_change_images.sql: a change's images in a table of their
-- own (copied text for text, so the fingerprints in the chain still match), and the two
-- indexes no query needs dropped. PostgreSQL drops a column without rewriting the table.
CREATE TABLE change_images (
    change_id BIGINT PRIMARY KEY REFERENCES changes (id),
    old_image_json TEXT,
    new_image_json TEXT
);

INSERT INTO change_images (change_id, old_image_json, new_image_json)
SELECT id, old_image_json, new_image_json FROM changes
WHERE old_image_json IS NOT NULL OR new_image_json IS NOT NULL ORDER BY id;

ALTER TABLE changes DROP COLUMN old_image_json;
ALTER TABLE changes DROP COLUMN new_image_json;

DROP INDEX changes_message;
DROP INDEX changes_document_sequence;
