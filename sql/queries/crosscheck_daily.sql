-- ./deploy.sh --verify: key aggregates per activity day of the credit report, the same text run by Athena and
-- (translated by sqlglot) by DuckDB over the same report files, so the two engines can be compared on the
-- customer's own data. One row per day.
SELECT
    activity_date,
    count(*) AS row_count,
    count(DISTINCT userid) AS users,
    sum(credits_used) AS credits,
    sum(overage_credits_used) AS overage,
    sum(total_messages) AS messages
FROM user_activity_daily
GROUP BY activity_date
