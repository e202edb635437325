-- Dashboard: credits per user per calendar month against the plan, with a tier recommendation.
-- total_credits = plan credits + overage credits; overage_cost prices what exceeds the monthly
-- allowance (this holds whether Kiro reports overage separately or inside Credits_Used).
-- UPGRADE: over the allowance and not on the top tier. DOWNGRADE: under 30% of the allowance,
-- above the lowest tier, and a smaller tier covers the month. The recommended tier is the
-- smallest tier whose allowance covers the month (the top tier if none does).
-- The current month is month-to-date: read its DOWNGRADE as provisional.
CREATE OR REPLACE VIEW ${database}.monthly_user_credits AS
WITH daily AS (
    SELECT
        TRY_CAST(date_trunc('month', a.activity_date) AS DATE) AS month,
        a.activity_date,
        a.userid,
        a.subscription_tier,
        a.credits_used,
        a.overage_credits_used,
        COALESCE(p.tier_rank, 0) AS tier_order
    FROM ${database}.user_activity_daily AS a
    LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = a.subscription_tier
),
latest_tier AS (
    SELECT month, userid, subscription_tier
    FROM (
        SELECT
            month,
            userid,
            subscription_tier,
            row_number() OVER (
                PARTITION BY month, userid
                ORDER BY
                    CASE WHEN subscription_tier IS NULL THEN 1 ELSE 0 END,
                    activity_date DESC,
                    tier_order DESC,
                    subscription_tier DESC
            ) AS tier_position
        FROM daily
    ) AS ordered
    WHERE tier_position = 1
),
totals AS (
    SELECT
        month,
        userid,
        sum(credits_used) AS credits_used,
        sum(overage_credits_used) AS overage_credits_used
    FROM daily
    GROUP BY month, userid
),
bounds AS (
    SELECT
        min(tier_rank) AS lowest_rank,
        max(tier_rank) AS top_rank,
        max(overage_price_per_credit) AS overage_price_per_credit
    FROM ${database}.plan_tiers
),
usage AS (
    SELECT
        t.month,
        t.userid,
        l.subscription_tier,
        t.credits_used,
        t.overage_credits_used,
        t.credits_used + t.overage_credits_used AS total_credits,
        p.monthly_credits,
        p.monthly_price,
        p.tier_rank
    FROM totals AS t
    JOIN latest_tier AS l ON l.month = t.month AND l.userid = t.userid
    LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = l.subscription_tier
),
fitting AS (
    SELECT u.month, u.userid, min(p.tier_rank) AS fitting_rank
    FROM usage AS u
    JOIN ${database}.plan_tiers AS p ON p.monthly_credits >= u.total_credits
    GROUP BY u.month, u.userid
),
decided AS (
    SELECT
        u.*,
        b.overage_price_per_credit,
        CASE
            WHEN u.tier_rank IS NULL THEN 'KEEP'
            WHEN u.total_credits > u.monthly_credits AND u.tier_rank < b.top_rank THEN 'UPGRADE'
            WHEN u.total_credits < 0.3 * u.monthly_credits
                AND u.tier_rank > b.lowest_rank
                AND COALESCE(f.fitting_rank, b.top_rank) < u.tier_rank THEN 'DOWNGRADE'
            ELSE 'KEEP'
        END AS recommendation,
        COALESCE(f.fitting_rank, b.top_rank) AS fitting_rank
    FROM usage AS u
    CROSS JOIN bounds AS b
    LEFT JOIN fitting AS f ON f.month = u.month AND f.userid = u.userid
)
SELECT
    d.month,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    d.subscription_tier,
    d.credits_used,
    d.overage_credits_used,
    d.total_credits,
    d.monthly_credits,
    100 * d.total_credits / NULLIF(d.monthly_credits, 0) AS utilisation_pct,
    COALESCE(d.total_credits > d.monthly_credits, false) AS in_overage,
    COALESCE(d.total_credits >= 0.8 * d.monthly_credits, false) AS near_cap,
    COALESCE(greatest(d.total_credits - d.monthly_credits, 0), 0) * d.overage_price_per_credit AS overage_cost,
    d.monthly_price,
    d.recommendation,
    CASE WHEN d.recommendation = 'KEEP' THEN d.subscription_tier ELSE r.subscription_tier END AS recommended_tier
FROM decided AS d
LEFT JOIN ${database}.plan_tiers AS r ON r.tier_rank = d.fitting_rank
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
