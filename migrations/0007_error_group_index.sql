-- One failure group's changes by id: listChanges with an exact error text (errorEquals), which
-- the console's failure groups and `--error-equals` use to act on exactly the group they show.
-- (changes_errors orders a group by status and time, not id; changes_with_error holds no text.)
CREATE INDEX changes_error_text ON changes (last_error, id) WHERE last_error IS NOT NULL;
