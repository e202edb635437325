-- Dashboard: per user, region and calendar month (one row per seat, as user_month_usage), consumption against the
-- allowance, what the month costs, and tier advice by cost (sql/README.md, Plans). The numbers come from
-- user_month_usage, the tier costs from tier_month_costs; team is the user's groups (user_teams), for the Team control.
--   overage_cost  = the overage credits Kiro reported x plans.overage_price_per_credit (what Kiro bills);
--   month_cost    = the tier's price + overage_cost (NULL for a tier plans.tiers does not price);
--   implied_overage_credits / overage_difference / overage_check: consumption beyond the allowance against the
--                   reported overage, shown side by side, never one picked silently;
--   recommendation: the cheapest tier that covers the month at its advice consumption (projected to month end for
--                   the month to date). advice_status: FINAL for a COMPLETE month, PROVISIONAL for MONTH_TO_DATE
--                   (projected) and PARTIAL_START (the days before the reports are missing). KEEP when the
--                   current tier is within half a cent of the cheapest; among equal costs the larger allowance.
--                   UPGRADE / DOWNGRADE name the direction; NO_PRICE when the current tier has no price to
--                   compare. When no tier covers a user who was stopped without overage: the largest allowance.
CREATE OR REPLACE VIEW ${database}.monthly_user_credits AS
WITH options AS (
    SELECT
        o.*,
        min(CASE WHEN o.covers THEN o.tier_cost END) OVER (PARTITION BY o.month, o.userid, o.region) AS cheapest_cost
    FROM ${database}.tier_month_costs AS o
),
ranked AS (
    SELECT
        o.*,
        row_number() OVER (
            PARTITION BY o.month, o.userid, o.region
            ORDER BY
                CASE WHEN o.covers AND o.tier_cost <= o.cheapest_cost + 0.005 THEN 0
                    WHEN o.cheapest_cost IS NULL THEN 1 ELSE 2 END,
                CASE WHEN o.cheapest_cost IS NULL THEN -o.tier_allowance ELSE 0 END,
                CASE WHEN o.is_current THEN 0 ELSE 1 END,
                o.tier_rank DESC
        ) AS choice
    FROM options AS o
),
chosen AS (
    SELECT month, userid, region, tier, tier_rank, tier_cost
    FROM ranked
    WHERE choice = 1
),
current_tier AS (
    SELECT month, userid, region, tier_cost, covers
    FROM ${database}.tier_month_costs
    WHERE is_current
)
SELECT
    u.month,
    u.userid,
    COALESCE(n.username, u.userid) AS username,
    u.region,
    u.subscription_tier,
    u.tier_priced,
    u.period_status,
    u.active_days,
    u.credits_used,
    u.overage_credits_used,
    u.consumption_credits,
    u.credits_to_date,
    u.projected_credits,
    u.monthly_credits,
    u.usage_limit,
    u.allowance,
    u.allowance_source,
    -- The base is the current tier's allowance (Usage_Limit when reported, else its plans.tiers credits).
    100 * u.credits_to_date / NULLIF(u.allowance, 0) AS utilisation_pct,
    u.implied_overage_credits,
    u.overage_difference,
    u.overage_check,
    COALESCE(u.overage_credits_used > 0 OR u.implied_overage_credits > 0, false) AS in_overage,
    COALESCE(u.credits_to_date >= 0.8 * u.allowance, false) AS near_cap,
    u.overage_enabled,
    u.overage_credits_used * u.overage_price_per_credit AS overage_cost,
    u.monthly_price,
    u.monthly_price + u.overage_credits_used * u.overage_price_per_credit AS month_cost,
    CASE WHEN NOT u.tier_priced THEN u.userid END AS unpriced_userid,
    k.tier_cost AS current_tier_cost,
    COALESCE(NOT k.covers, false) AS current_tier_short,
    CASE
        WHEN NOT u.tier_priced THEN 'NO_PRICE'
        WHEN c.tier = u.subscription_tier THEN 'KEEP'
        WHEN c.tier_rank > u.tier_rank THEN 'UPGRADE'
        ELSE 'DOWNGRADE'
    END AS recommendation,
    -- The advice of a month the data does not cover whole is provisional: the month to date is a projection, a
    -- month the reports start in after its 1st misses the days before (its credits are a lower bound). Only a
    -- COMPLETE month's advice is FINAL.
    CASE WHEN u.period_status = 'COMPLETE' THEN 'FINAL' ELSE 'PROVISIONAL' END AS advice_status,
    CASE WHEN u.tier_priced THEN c.tier END AS recommended_tier,
    CASE WHEN u.tier_priced THEN c.tier_cost END AS recommended_tier_cost,
    CASE WHEN u.tier_priced THEN k.tier_cost - c.tier_cost END AS advice_saving,
    COALESCE(t.team, '(unknown)') AS team
FROM ${database}.user_month_usage AS u
LEFT JOIN chosen AS c ON c.month = u.month AND c.userid = u.userid AND c.region = u.region
LEFT JOIN current_tier AS k ON k.month = u.month AND k.userid = u.userid AND k.region = u.region
LEFT JOIN ${database}.user_names AS n ON n.userid = u.userid
LEFT JOIN ${database}.user_teams AS t ON t.userid = u.userid
