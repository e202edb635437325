-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix); report_lines
-- found those columns once per file and read their cells once per line, and the facts job stored each cell that
-- holds messages as a row of model_message_facts, with the line it came from (source_path, activity_date, userid,
-- client_type). A cell counts when its line is used (report_line_status): its line is valid, so that is when the
-- line is not superseded, and the few superseded lines (a re-sent export's older copy) are what the cells are
-- matched against (an anti join whose other side is small, issue 12). The line's activity_date is one of the join's
-- equalities, so a date predicate on this view (an incremental SPICE refresh) reaches both fact scans
-- (tests/test_refresh_scan.py).
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
SELECT
    m.activity_date,
    m.userid,
    m.client_type,
    m.model,
    TRY_CAST(sum(m.messages) AS BIGINT) AS messages
FROM ${database}.model_message_facts AS m
LEFT JOIN (
    SELECT source_path, activity_date, userid, client_type
    FROM ${database}.report_line_status
    WHERE family = 'user_report'
      AND status = 'superseded'
) AS s
    ON s.source_path = m.source_path
    AND s.activity_date = m.activity_date
    AND s.userid = m.userid
    AND s.client_type = m.client_type
WHERE s.userid IS NULL
GROUP BY m.activity_date, m.userid, m.client_type, m.model
HAVING sum(m.messages) > 0
