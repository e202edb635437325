-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix); report_lines
-- found those columns once per file and read their cells once per line (model_names[i] has model_messages[i]).
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
WITH cells AS (
    SELECT
        u.activity_date,
        u.userid,
        u.client_type,
        element_at(u.model_names, p.pos) AS model,
        element_at(u.model_messages, p.pos) AS messages
    FROM ${database}.user_report_latest AS u
    -- At least 1: Trino's sequence(1, 0) is an error, not an empty array; a line without model columns gives one
    -- NULL cell, which the HAVING drops.
    CROSS JOIN UNNEST(sequence(1, greatest(COALESCE(cardinality(u.model_names), 0), 1))) AS p (pos)
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
