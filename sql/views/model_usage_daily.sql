-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix); report_lines
-- found those columns once per file and read their cells once per line, and the facts job stored each cell that
-- holds messages as a row of model_message_facts, with the line it came from (source_path, activity_date, userid,
-- client_type). Only the cells of the lines the views count (user_report_latest: report_line_status's 'used'
-- lines) are summed. The INNER join on activity_date carries a date predicate on this view (an incremental SPICE
-- refresh) to both fact scans.
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
SELECT
    m.activity_date,
    m.userid,
    m.client_type,
    m.model,
    TRY_CAST(sum(m.messages) AS BIGINT) AS messages
FROM ${database}.model_message_facts AS m
INNER JOIN ${database}.user_report_latest AS u
    ON u.source_path = m.source_path
    AND u.activity_date = m.activity_date
    AND u.userid = m.userid
    AND u.client_type = m.client_type
GROUP BY m.activity_date, m.userid, m.client_type, m.model
HAVING sum(m.messages) > 0
