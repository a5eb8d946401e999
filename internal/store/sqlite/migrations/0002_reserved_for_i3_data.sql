-- Placeholder that keeps the migration numbers gap-free on the i3-panel
-- branch: the 0002 migration belongs to the i3-data branch. Delete this file
-- when that branch's 0002 is merged (two 0002 files fail at start-up).
SELECT 1;
