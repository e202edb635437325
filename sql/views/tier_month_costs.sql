-- Internal: what each seat's month (user and region, as user_month_usage) would cost under each tier tier advice
-- may recommend (plan_tiers.advisable) and under the user's own tier, at the month's advice consumption:
-- projected_credits of user_month_usage (the month-end projection for the month to date, the consumption so far for
-- a closed month).
--   tier_cost = the tier's price + what goes beyond its allowance x the overage price, when overage is possible:
--               the user has Overage_Enabled on (latest day of the month) and the plan can buy overage at all;
--   covers    = the tier serves the month: always with overage; without it, its allowance must reach the
--               consumption, and a user already stopped at the allowance (no overage, allowance reached) needed
--               more than they got, so only a larger allowance covers them.
-- The user's own tier uses the month's allowance (Usage_Limit when reported); others their plans.tiers credits.
CREATE OR REPLACE VIEW ${database}.tier_month_costs AS
WITH usage AS (
    SELECT
        month,
        userid,
        region,
        subscription_tier,
        allowance,
        projected_credits AS advice_credits,
        overage_enabled,
        overage_price_per_credit,
        -- Kiro meters credits to 0.01: within that of the allowance counts as reaching it.
        NOT overage_enabled AND projected_credits >= allowance - 0.01 AS capped
    FROM ${database}.user_month_usage
),
options AS (
    SELECT
        u.month,
        u.userid,
        u.region,
        p.subscription_tier AS tier,
        p.tier_rank,
        p.monthly_price,
        p.subscription_tier = u.subscription_tier AS is_current,
        CASE WHEN p.subscription_tier = u.subscription_tier THEN u.allowance ELSE p.monthly_credits END
            AS tier_allowance,
        u.overage_enabled AND p.overage_available AS overage_possible,
        u.advice_credits,
        u.capped,
        u.overage_price_per_credit
    FROM usage AS u
    CROSS JOIN ${database}.plan_tiers AS p
    WHERE p.advisable OR p.subscription_tier = u.subscription_tier
)
SELECT
    month,
    userid,
    region,
    tier,
    tier_rank,
    is_current,
    tier_allowance,
    advice_credits,
    CASE WHEN overage_possible THEN greatest(advice_credits - tier_allowance, 0) ELSE 0 END AS overage_credits,
    monthly_price
        + CASE WHEN overage_possible THEN greatest(advice_credits - tier_allowance, 0) * overage_price_per_credit
            ELSE 0 END AS tier_cost,
    CASE
        WHEN overage_possible THEN true
        WHEN capped THEN tier_allowance > advice_credits + 0.01
        ELSE tier_allowance >= advice_credits
    END AS covers
FROM options
