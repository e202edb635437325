-- Dashboard: users grouped by their current tier (user_summary), all-time totals, and the plan. Every configured
-- tier appears, with 0 users if nobody holds it; a tier seen in the reports but not in plans.tiers (e.g.
-- ENTERPRISE) appears too, with its users and no price: priced = false, monthly_seat_cost NULL, never dropped.
-- monthly_seat_cost = users x the tier's price: one month of their seats.
CREATE OR REPLACE VIEW ${database}.tier_summary AS
WITH per_tier AS (
    SELECT
        subscription_tier,
        count(*) AS users,
        sum(credits_used) AS credits_used,
        sum(overage_credits_used) AS overage_credits_used,
        sum(consumption_credits) AS consumption_credits,
        TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
    FROM ${database}.user_summary
    GROUP BY subscription_tier
)
SELECT
    COALESCE(s.subscription_tier, p.subscription_tier) AS subscription_tier,
    COALESCE(s.users, 0) AS users,
    COALESCE(s.credits_used, 0) AS credits_used,
    COALESCE(s.overage_credits_used, 0) AS overage_credits_used,
    COALESCE(s.consumption_credits, 0) AS consumption_credits,
    COALESCE(s.total_messages, 0) AS total_messages,
    s.consumption_credits / NULLIF(s.users, 0) AS avg_consumption_per_user,
    p.monthly_credits,
    p.monthly_price,
    p.tier_rank,
    p.tier_rank IS NOT NULL AS priced,
    COALESCE(s.users, 0) * p.monthly_price AS monthly_seat_cost
FROM per_tier AS s
FULL OUTER JOIN ${database}.plan_tiers AS p ON p.subscription_tier = s.subscription_tier
