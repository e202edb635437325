-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix); report_lines
-- found those columns once per file and read their cells once per line, and the facts job stored each cell that
-- holds messages as a row of model_message_facts, with the line it came from (source_path, activity_date, userid,
-- client_type). Each cell is joined to its line's status (report_line_status) and counted when the line is 'used'
-- (the newest export of its key). The line's activity_date is one of the join's equalities, so a date predicate on
-- this view (an incremental SPICE refresh) reaches both fact scans (tests/test_refresh_scan.py). The status is
-- tested in the sum, not in a WHERE: so the sum depends on both sides and DuckDB does not first group the cells by
-- their line (a grouping that saves nothing, each line's cells being distinct already, and cost as much again).
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
SELECT
    m.activity_date,
    m.userid,
    m.client_type,
    m.model,
    TRY_CAST(sum(CASE WHEN s.status = 'used' THEN m.messages END) AS BIGINT) AS messages
FROM ${database}.model_message_facts AS m
INNER JOIN ${database}.report_line_status AS s
    ON s.source_path = m.source_path
    AND s.activity_date = m.activity_date
    AND s.userid = m.userid
    AND s.client_type = m.client_type
WHERE s.family = 'user_report'
GROUP BY m.activity_date, m.userid, m.client_type, m.model
HAVING sum(CASE WHEN s.status = 'used' THEN m.messages END) > 0
