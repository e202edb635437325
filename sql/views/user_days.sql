-- Internal: each (day, user) with any activity in either report; the base of DAU/WAU/MAU,
-- new vs returning users and active users per day.
-- Read from the valid fact lines themselves, not through report_line_status: every key (family, region, day,
-- user, client) that has a valid line has exactly one used line (the newest export's), so the (day, user) pairs
-- of the used lines of both reports are those of their valid lines. Reading four columns in one scan, instead of
-- two scans that sort every line's key to pick the newest export, is what the views over every day (new vs
-- returning, DAU/WAU/MAU, seat use) cost Athena on each refresh (bench/local_build.py --scan).
CREATE OR REPLACE VIEW ${database}.user_days AS
SELECT DISTINCT activity_date, userid
FROM ${database}.report_line_facts
WHERE line_status = 'valid'
