-- Search on arbitrary data (issue 3): a queue's screen-pop timing and its
-- mapping of interaction data keys to CRM fields; an entry point's digit
-- collection; the screen-pop timing an interaction was queued with.

-- 'offer' or 'answer'.
ALTER TABLE queues ADD COLUMN screen_pop TEXT NOT NULL DEFAULT 'answer';
-- JSON array of {"key", "object", "field"}.
ALTER TABLE queues ADD COLUMN search_fields TEXT NOT NULL DEFAULT 'null';
-- JSON {"key", "prompt", "max_digits", "timeout"} or null for none.
ALTER TABLE entry_points ADD COLUMN collect TEXT NOT NULL DEFAULT 'null';
-- 'offer', 'answer', or '' (interactions stored before this migration).
ALTER TABLE interactions ADD COLUMN screen_pop TEXT NOT NULL DEFAULT '';
