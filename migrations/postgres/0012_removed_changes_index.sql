-- Insert speed (issue 15): list --event-name pages by id, and only REMOVE is rare enough to
-- need an index for it. INSERT and MODIFY are most changes, so reading changes by id finds a
-- page of them soon; an index of every change's event name cost every insert an entry.
DROP INDEX changes_event_name;
CREATE INDEX changes_removed ON changes (id) WHERE event_name = 'REMOVE';
