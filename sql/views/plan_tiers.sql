-- Plans from config.yaml (plans.tiers, plans.overage_price_per_credit, plans.advise_free, plans.overage_reading),
-- rendered into the
-- placeholders; tier_rank orders tiers by monthly credits (1 = smallest). No price lives in SQL.
-- overage_available: the plan can buy overage at all (plans.tiers.<tier>.overage; Kiro's Free plan cannot).
-- advisable: tier advice may recommend it (FREE only when plans.advise_free is true).
CREATE OR REPLACE VIEW ${database}.plan_tiers AS
SELECT
    subscription_tier,
    TRY_CAST(monthly_credits AS DOUBLE) AS monthly_credits,
    TRY_CAST(monthly_price AS DOUBLE) AS monthly_price,
    tier_rank,
    TRY_CAST(${overage_price_per_credit} AS DOUBLE) AS overage_price_per_credit,
    overage_available,
    advisable,
    -- plans.overage_reading, for what reads the reports' overage outside a view rendered with it (the facts job's
    -- month sums, facts/user_month_facts.load.sql, which the Lambda renders without config).
    '${overage_reading}' AS overage_reading
FROM (VALUES ${plan_tier_rows}) AS t (
    subscription_tier, monthly_credits, monthly_price, tier_rank, overage_available, advisable
)
