-- Dashboard: user_activity_daily summed over clients per (day, user), with the display name.
-- The tier is the highest plan seen that day (a user on two clients pays the higher tier once).
CREATE OR REPLACE VIEW ${database}.user_daily_detail AS
WITH per_day AS (
    SELECT
        a.activity_date,
        a.userid,
        max_by(a.subscription_tier, COALESCE(p.tier_rank, 0)) AS subscription_tier,
        count(DISTINCT a.client_type) AS clients,
        TRY_CAST(sum(a.chat_conversations) AS BIGINT) AS chat_conversations,
        sum(a.credits_used) AS credits_used,
        sum(a.overage_credits_used) AS overage_credits_used,
        TRY_CAST(sum(a.total_messages) AS BIGINT) AS total_messages
    FROM ${database}.user_activity_daily AS a
    LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = a.subscription_tier
    GROUP BY a.activity_date, a.userid
)
SELECT
    d.activity_date,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    d.subscription_tier,
    d.clients,
    d.chat_conversations,
    d.credits_used,
    d.overage_credits_used,
    d.total_messages
FROM per_day AS d
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
