-- Dashboard: usage per client type (IDE, CLI, plugin, ...) per day.
CREATE OR REPLACE VIEW ${database}.client_mix_daily AS
SELECT
    activity_date,
    client_type,
    count(DISTINCT userid) AS users,
    sum(credits_used) AS credits_used,
    TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
FROM ${database}.user_activity_daily
GROUP BY activity_date, client_type
