-- Internal: each (day, user) of the credit report with the day's highest tier over the user's regions (the tier
-- rank as user_credit_daily ranks clients), so views without a tier of their own (the legacy behaviour report,
-- active users) can be filtered by the Tier control. Readers give a day missing here 'UNKNOWN' (codes.json
-- labels it): the legacy report names no tier, and on a day the credit report lacks the user there is none.
CREATE OR REPLACE VIEW ${database}.user_day_tiers AS
SELECT
    c.activity_date,
    c.userid,
    max_by(c.subscription_tier, COALESCE(p.tier_rank, CASE WHEN c.subscription_tier IS NULL THEN -1 ELSE 0 END))
        AS subscription_tier
FROM ${database}.user_credit_daily AS c
LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = c.subscription_tier
GROUP BY c.activity_date, c.userid
