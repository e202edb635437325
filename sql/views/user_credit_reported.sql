-- Internal: the credit report per (day, user, region), summed over clients, as the files report it:
-- Overage_Credits_Used not yet read as daily or running total (overage_reported: the day's sum under the daily
-- reading, its largest row under running_total), with what the reading checks of user_credit_daily need
-- (overage_rows/low/high). Nothing here looks at another day, so a filter on activity_date reaches the fact table
-- (user_day_credits, bench/refresh_scan.py).
CREATE OR REPLACE VIEW ${database}.user_credit_reported AS
SELECT
    a.activity_date,
    TRY_CAST(date_trunc('month', a.activity_date) AS DATE) AS month,
    a.userid,
    a.region,
    -- An unknown tier (rank 0) still beats a row that names none (-1).
    max_by(a.subscription_tier, COALESCE(p.tier_rank, CASE WHEN a.subscription_tier IS NULL THEN -1 ELSE 0 END))
        AS subscription_tier,
    -- user_activity_daily holds one row per (region, date, user, client) (user_report_latest), so the group's rows
    -- are its distinct clients: a plain count, without the hash table per group a DISTINCT count builds.
    count(a.client_type) AS clients,
    TRY_CAST(sum(a.chat_conversations) AS BIGINT) AS chat_conversations,
    sum(a.credits_used) AS credits_used,
    CASE
        WHEN '${overage_reading}' = 'running_total' THEN max(a.overage_credits_used)
        ELSE sum(a.overage_credits_used)
    END AS overage_reported,
    count(CASE WHEN a.overage_credits_used <> 0 THEN 1 END) AS overage_rows,
    min(CASE WHEN a.overage_credits_used <> 0 THEN a.overage_credits_used END) AS overage_low,
    max(CASE WHEN a.overage_credits_used <> 0 THEN a.overage_credits_used END) AS overage_high,
    TRY_CAST(sum(a.total_messages) AS BIGINT) AS total_messages,
    max(a.usage_limit) AS usage_limit,
    max(a.overage_cap) AS overage_cap,
    max(CASE WHEN a.overage_enabled THEN 1 ELSE 0 END) = 1 AS overage_enabled
FROM ${database}.user_activity_daily AS a
LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = a.subscription_tier
GROUP BY a.activity_date, a.userid, a.region
