-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix); report_lines
-- found those columns once per file and read their cells once per line (model_names[i] has model_messages[i]).
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
WITH cells AS (
    SELECT
        u.activity_date,
        u.userid,
        u.client_type,
        c.model,
        c.messages
    FROM ${database}.user_report_latest AS u
    -- The two arrays zipped, one row per model (both are as long as the file's model columns); a line without
    -- model columns adds no row. Unnesting both arrays, not a sequence of positions read with element_at, is
    -- what keeps the local build from copying both arrays onto every model's row (issue 12).
    CROSS JOIN UNNEST(u.model_names, u.model_messages) AS c (model, messages)
)
SELECT
    activity_date,
    userid,
    client_type,
    model,
    TRY_CAST(sum(messages) AS BIGINT) AS messages
FROM cells
GROUP BY activity_date, userid, client_type, model
HAVING sum(messages) > 0
