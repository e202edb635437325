-- Dashboard: users grouped by their current tier (user_summary), all-time totals, and the plan.
-- Every configured tier appears, with 0 users if nobody holds it.
CREATE OR REPLACE VIEW ${database}.tier_summary AS
WITH per_tier AS (
    SELECT
        subscription_tier,
        count(*) AS users,
        sum(credits_used) AS credits_used,
        TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
    FROM ${database}.user_summary
    GROUP BY subscription_tier
)
SELECT
    COALESCE(s.subscription_tier, p.subscription_tier) AS subscription_tier,
    COALESCE(s.users, 0) AS users,
    COALESCE(s.credits_used, 0) AS credits_used,
    COALESCE(s.total_messages, 0) AS total_messages,
    s.credits_used / NULLIF(s.users, 0) AS avg_credits_per_user,
    p.monthly_credits,
    p.monthly_price,
    p.tier_rank,
    COALESCE(s.users, 0) * p.monthly_price AS monthly_seat_cost
FROM per_tier AS s
FULL OUTER JOIN ${database}.plan_tiers AS p ON p.subscription_tier = s.subscription_tier
