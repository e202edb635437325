-- Contract: messages per model in long form; a new model adds rows, not columns.
-- Every header ending in _messages except total_messages is one model (name without the suffix).
CREATE OR REPLACE VIEW ${database}.model_usage_daily AS
WITH cells AS (
    SELECT
        u.activity_date,
        u.userid,
        u.client_type,
        element_at(u.header, p.pos) AS column_name,
        trim(element_at(u.fields, p.pos)) AS cell
    FROM ${database}.user_report_latest AS u
    CROSS JOIN UNNEST(sequence(1, cardinality(u.header))) AS p (pos)
)
SELECT
    activity_date,
    userid,
    client_type,
    substr(column_name, 1, length(column_name) - 9) AS model,
    TRY_CAST(sum(COALESCE(TRY_CAST(cell AS BIGINT), 0)) AS BIGINT) AS messages
FROM cells
WHERE length(column_name) > 9
  AND substr(column_name, length(column_name) - 8) = '_messages'
  AND column_name <> 'total_messages'
GROUP BY activity_date, userid, client_type, substr(column_name, 1, length(column_name) - 9)
HAVING sum(COALESCE(TRY_CAST(cell AS BIGINT), 0)) > 0
