-- Dashboard: each user's month projected to its end at the month's own run rate, so admins see who
-- will hit the plan's cap before Kiro warns the user (at 80 %). "Today" is the data's last day
-- (the latest activity_date), never the wall clock, so the same files always give the same numbers.
-- Latest month: projected = credits so far / days elapsed (1st .. data's last day) x days in the
-- month; earlier months are complete, so projected = actual and days_elapsed = days_in_month.
-- at_risk: projected to reach the allowance while still under it (so never true for a past month);
-- near_cap: projected to reach 80 %. Credits, tier (latest row) and allowance come from
-- monthly_user_credits; the overage price from config through plan_tiers.
CREATE OR REPLACE VIEW ${database}.monthly_credit_forecast AS
WITH data_end AS (
    SELECT max(activity_date) AS last_day
    FROM ${database}.user_activity_daily
),
months AS (
    SELECT
        m.month,
        m.userid,
        m.username,
        m.subscription_tier,
        m.total_credits AS credits_to_date,
        m.monthly_credits,
        date_diff('day', m.month, TRY_CAST(date_add('month', 1, m.month) AS DATE)) AS days_in_month,
        CASE
            WHEN m.month = TRY_CAST(date_trunc('month', e.last_day) AS DATE)
                THEN date_diff('day', m.month, e.last_day) + 1
            ELSE date_diff('day', m.month, TRY_CAST(date_add('month', 1, m.month) AS DATE))
        END AS days_elapsed
    FROM ${database}.monthly_user_credits AS m
    CROSS JOIN data_end AS e
),
projected AS (
    SELECT
        *,
        credits_to_date * days_in_month / days_elapsed AS projected_credits
    FROM months
),
price AS (
    SELECT max(overage_price_per_credit) AS overage_price_per_credit
    FROM ${database}.plan_tiers
),
judged AS (
    SELECT
        p.*,
        COALESCE(greatest(p.projected_credits - p.monthly_credits, 0), 0) AS projected_overage_credits,
        COALESCE(p.projected_credits >= p.monthly_credits AND p.credits_to_date < p.monthly_credits, false)
            AS at_risk,
        COALESCE(p.projected_credits >= 0.8 * p.monthly_credits, false) AS near_cap,
        c.overage_price_per_credit
    FROM projected AS p
    CROSS JOIN price AS c
)
SELECT
    month,
    userid,
    username,
    subscription_tier,
    credits_to_date,
    days_elapsed,
    days_in_month,
    projected_credits,
    monthly_credits,
    100 * projected_credits / NULLIF(monthly_credits, 0) AS projected_utilisation_pct,
    projected_overage_credits,
    projected_overage_credits * overage_price_per_credit AS projected_overage_cost,
    at_risk,
    near_cap,
    -- 1 for an at-risk user: a KPI sums it into a count, which a BOOLEAN cannot give.
    CASE WHEN at_risk THEN 1 ELSE 0 END AS at_risk_users
FROM judged
