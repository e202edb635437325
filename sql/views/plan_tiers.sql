-- Plans from config.yaml (plans.tiers, plans.overage_price_per_credit), rendered into the
-- placeholders; tier_rank orders tiers by monthly credits (1 = smallest). No price lives in SQL.
CREATE OR REPLACE VIEW ${database}.plan_tiers AS
SELECT
    subscription_tier,
    TRY_CAST(monthly_credits AS DOUBLE) AS monthly_credits,
    TRY_CAST(monthly_price AS DOUBLE) AS monthly_price,
    tier_rank,
    TRY_CAST(${overage_price_per_credit} AS DOUBLE) AS overage_price_per_credit
FROM (VALUES ${plan_tier_rows}) AS t (subscription_tier, monthly_credits, monthly_price, tier_rank)
