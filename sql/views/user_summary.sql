-- Contract: one row per user of the credit report. The tier (user_current_tier) is the one on the user's latest
-- row that names a tier (never MAX(tier), which would rank PRO_PLUS above POWER); on a day with two clients on
-- different tiers the higher plan wins, as Kiro bills the higher tier once. Credits, overage and consumption are
-- all-time sums of the cost model's days (user_credit_daily).
CREATE OR REPLACE VIEW ${database}.user_summary AS
WITH totals AS (
    SELECT
        userid,
        min(activity_date) AS first_active_date,
        max(activity_date) AS last_active_date,
        count(DISTINCT activity_date) AS active_days,
        sum(credits_used) AS credits_used,
        TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages,
        sum(overage_credits_used) AS overage_credits_used,
        sum(consumption_credits) AS consumption_credits
    FROM ${database}.user_credit_daily
    GROUP BY userid
)
SELECT
    t.userid,
    COALESCE(n.username, t.userid) AS username,
    r.subscription_tier,
    t.first_active_date,
    t.last_active_date,
    t.active_days,
    t.credits_used,
    t.total_messages,
    t.overage_credits_used,
    t.consumption_credits
FROM totals AS t
JOIN ${database}.user_current_tier AS r ON r.userid = t.userid
LEFT JOIN ${database}.user_names AS n ON n.userid = t.userid
