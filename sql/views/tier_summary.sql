-- Dashboard: seats grouped by their current tier, all-time totals, and the plan. Every configured tier appears, with
-- 0 users if nobody holds it; a tier seen in the reports but not in plans.tiers (e.g. ENTERPRISE) appears too, with
-- its users and no price: priced = false, monthly_seat_cost NULL, never dropped.
-- A seat is a (user, region): a subscription belongs to a Kiro profile, a profile to one region (as user_month_usage),
-- so a user with profiles in two regions holds two seats, each with the tier on its own latest day that names one
-- (the day's highest plan across clients, as user_credit_daily; never MAX(tier)). seats counts them, users the
-- distinct people (a user whose two seats are on different tiers counts under both); monthly_seat_cost = seats x the
-- tier's price: one month of those seats. Credits are each seat's all-time sums, so they add up to user_summary's.
-- Read from the facts job's per-month sums (facts/user_month_facts.sql; a month's tier is its latest day's, tier_day),
-- so a full refresh reads those rows, not every line.
CREATE OR REPLACE VIEW ${database}.tier_summary AS
WITH ranked AS (
    SELECT
        userid,
        region,
        subscription_tier,
        row_number() OVER (
            PARTITION BY userid, region
            ORDER BY CASE WHEN subscription_tier IS NULL THEN 1 ELSE 0 END, tier_day DESC, month DESC
        ) AS tier_order
    FROM ${database}.user_month_facts
),
seat_totals AS (
    SELECT
        userid,
        region,
        sum(credits_used) AS credits_used,
        sum(overage_credits_used) AS overage_credits_used,
        sum(credits_used + overage_credits_used) AS consumption_credits,
        sum(total_messages) AS total_messages
    FROM ${database}.user_month_facts
    GROUP BY userid, region
),
per_tier AS (
    SELECT
        r.subscription_tier,
        count(DISTINCT t.userid) AS users,
        count(*) AS seats,
        sum(t.credits_used) AS credits_used,
        sum(t.overage_credits_used) AS overage_credits_used,
        sum(t.consumption_credits) AS consumption_credits,
        TRY_CAST(sum(t.total_messages) AS BIGINT) AS total_messages
    FROM seat_totals AS t
    JOIN ranked AS r ON r.userid = t.userid AND r.region = t.region AND r.tier_order = 1
    GROUP BY r.subscription_tier
)
SELECT
    COALESCE(s.subscription_tier, p.subscription_tier) AS subscription_tier,
    COALESCE(s.users, 0) AS users,
    COALESCE(s.seats, 0) AS seats,
    COALESCE(s.credits_used, 0) AS credits_used,
    COALESCE(s.overage_credits_used, 0) AS overage_credits_used,
    COALESCE(s.consumption_credits, 0) AS consumption_credits,
    COALESCE(s.total_messages, 0) AS total_messages,
    s.consumption_credits / NULLIF(s.users, 0) AS avg_consumption_per_user,
    p.monthly_credits,
    p.monthly_price,
    p.tier_rank,
    p.tier_rank IS NOT NULL AS priced,
    COALESCE(s.seats, 0) * p.monthly_price AS monthly_seat_cost
FROM per_tier AS s
FULL OUTER JOIN ${database}.plan_tiers AS p ON p.subscription_tier = s.subscription_tier
