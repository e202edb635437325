-- Internal: the cost model per (month, user, region), from user_credit_daily summed per month by the facts job
-- (facts/user_month_facts.sql: a full refresh reads those rows, not every line; sql/README.md, Plans: every definition
-- and the Kiro page it rests on). monthly_user_credits, tier_month_costs and monthly_credit_forecast read it.
-- One row per seat: a subscription belongs to a Kiro profile, a profile to one region, so a user active in two
-- regions holds two subscriptions (two plan prices, two allowances), each priced and advised on its own.
-- "Today" is the data's last day (max activity_date of the credit report), never the wall clock.
--   subscription_tier  the tier on the month's latest day that names one (an upgrade re-rates the whole month);
--   allowance          that day's Usage_Limit when the report has the column, else the tier's plans.tiers credits;
--   consumption        plan credits + reported overage credits of the days in the data;
--   implied overage    consumption beyond the allowance; the difference to the reported overage is kept, never
--                      hidden. overage_check: LOOKS_LIKE_RUNNING_TOTAL / RUNNING_TOTAL_DECREASED /
--                      CLIENTS_DISAGREE (the data does not fit plans.overage_reading), NO_ALLOWANCE, OK (within
--                      0.01), DATA_STARTS_MID_MONTH (more reported than the days in the data imply: the days
--                      before the reports began), REPORTED_ABOVE_IMPLIED, REPORTED_BELOW_IMPLIED;
--   credits_to_date    consumption, except in a month the data does not cover from its first day: there Kiro's
--                      reported overage proves the allowance was used up, so at least allowance + overage;
--   projected_credits  the month-to-date projected to the month's end at the run rate of the covered days;
--                      every other month is closed, projected = credits_to_date;
--   period_status      COMPLETE, MONTH_TO_DATE (the month of the data's last day, before its end: provisional) or
--                      PARTIAL_START (the data begins after the month's first day).
CREATE OR REPLACE VIEW ${database}.user_month_usage AS
WITH data_span AS (
    SELECT min(first_active) AS first_day, max(last_active) AS last_day
    FROM ${database}.user_month_facts
),
periods AS (
    SELECT
        t.*,
        TRY_CAST(date_add('month', 1, t.month) AS DATE) AS next_month,
        s.first_day AS data_first_day,
        s.last_day AS data_last_day
    FROM ${database}.user_month_facts AS t
    CROSS JOIN data_span AS s
),
spans AS (
    SELECT
        r.*,
        date_diff('day', r.month, r.next_month) AS days_in_month,
        r.data_first_day <= r.month AS covers_month_start,
        r.data_last_day < TRY_CAST(date_add('day', -1, r.next_month) AS DATE) AND r.data_last_day >= r.month
            AS month_to_date,
        date_diff(
            'day',
            CASE WHEN r.data_first_day > r.month THEN r.data_first_day ELSE r.month END,
            CASE WHEN r.data_last_day < r.next_month THEN r.data_last_day
                ELSE TRY_CAST(date_add('day', -1, r.next_month) AS DATE) END
        ) + 1 AS days_covered
    FROM periods AS r
),
priced AS (
    SELECT
        s.*,
        p.monthly_credits,
        p.monthly_price,
        p.tier_rank,
        COALESCE(s.usage_limit, p.monthly_credits) AS allowance,
        CASE WHEN s.usage_limit IS NOT NULL THEN 'REPORT' WHEN p.monthly_credits IS NOT NULL THEN 'PLAN' END
            AS allowance_source,
        s.credits_used + s.overage_credits_used AS consumption_credits,
        CASE WHEN s.month_to_date THEN date_diff('day', s.data_last_day, s.next_month) - 1 ELSE 0 END
            AS days_remaining
    FROM spans AS s
    LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = s.subscription_tier
),
price AS (
    SELECT max(overage_price_per_credit) AS overage_price_per_credit
    FROM ${database}.plan_tiers
),
measured AS (
    SELECT
        d.*,
        greatest(d.consumption_credits - d.allowance, 0) AS implied_overage_credits,
        CASE
            WHEN NOT d.covers_month_start AND d.overage_credits_used > 0
                AND d.allowance + d.overage_credits_used > d.consumption_credits
                THEN d.allowance + d.overage_credits_used
            ELSE d.consumption_credits
        END AS credits_to_date
    FROM priced AS d
)
SELECT
    m.month,
    m.userid,
    m.region,
    m.subscription_tier,
    m.tier_rank IS NOT NULL AS tier_priced,
    CASE WHEN m.month_to_date THEN 'MONTH_TO_DATE' WHEN NOT m.covers_month_start THEN 'PARTIAL_START'
        ELSE 'COMPLETE' END AS period_status,
    m.covers_month_start,
    m.month_to_date,
    m.data_first_day,
    m.data_last_day,
    m.first_active,
    m.last_active,
    m.active_days,
    m.days_in_month,
    m.days_covered,
    m.days_remaining,
    m.credits_used,
    m.overage_credits_used,
    m.consumption_credits,
    m.credits_to_date,
    m.credits_to_date + CASE WHEN m.days_remaining > 0
        THEN m.consumption_credits / m.days_covered * m.days_remaining ELSE 0 END AS projected_credits,
    m.usage_limit,
    m.monthly_credits,
    m.allowance,
    m.allowance_source,
    m.implied_overage_credits,
    m.overage_credits_used - m.implied_overage_credits AS overage_difference,
    CASE
        -- First: data that does not fit plans.overage_reading (then every overage figure of the month is suspect).
        WHEN '${overage_reading}' = 'running_total' AND m.overage_total_decreased THEN 'RUNNING_TOTAL_DECREASED'
        WHEN '${overage_reading}' = 'running_total' AND m.overage_clients_differ THEN 'CLIENTS_DISAGREE'
        WHEN '${overage_reading}' = 'daily' AND (m.overage_clients_equal
            OR (m.overage_days >= 4 AND m.overage_rising_days = m.overage_days - 1)) THEN 'LOOKS_LIKE_RUNNING_TOTAL'
        WHEN m.allowance IS NULL THEN 'NO_ALLOWANCE'
        -- Kiro meters credits to 0.01: a smaller gap is rounding.
        WHEN m.overage_credits_used - m.implied_overage_credits BETWEEN -0.01 AND 0.01 THEN 'OK'
        WHEN m.overage_credits_used > m.implied_overage_credits AND NOT m.covers_month_start
            THEN 'DATA_STARTS_MID_MONTH'
        WHEN m.overage_credits_used > m.implied_overage_credits THEN 'REPORTED_ABOVE_IMPLIED'
        ELSE 'REPORTED_BELOW_IMPLIED'
    END AS overage_check,
    m.overage_enabled,
    m.monthly_price,
    m.tier_rank,
    c.overage_price_per_credit
FROM measured AS m
CROSS JOIN price AS c
