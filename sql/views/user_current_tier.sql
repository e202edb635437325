-- Internal: each credit-report user's current tier: the one on the user's latest row that names a tier (never
-- MAX(tier), which would rank PRO_PLUS above POWER); on a day with two clients on different tiers the higher plan
-- wins, as Kiro bills the higher tier once. Apart from user_summary so that what needs the tier alone (seat use)
-- does not also read every day's credits. Read from the facts job's per-month rows (facts/user_month_facts.sql: each
-- month's tier is its latest day's naming one, that day's highest plan; tier_day is that day), not every line.
CREATE OR REPLACE VIEW ${database}.user_current_tier AS
WITH ranked AS (
    SELECT
        a.userid,
        a.subscription_tier,
        row_number() OVER (
            PARTITION BY a.userid
            ORDER BY
                CASE WHEN a.subscription_tier IS NULL THEN 1 ELSE 0 END,
                a.tier_day DESC,
                COALESCE(p.tier_rank, 0) DESC,
                a.subscription_tier DESC
        ) AS tier_order
    FROM ${database}.user_month_facts AS a
    LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = a.subscription_tier
)
SELECT userid, subscription_tier
FROM ranked
WHERE tier_order = 1
