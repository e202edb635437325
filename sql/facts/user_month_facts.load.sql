-- Load the months ${first_date} .. ${last_date} (first day of the first month, last day of the last) from the
-- cost model's daily figures (user_credit_reported and the readings of user_credit_daily): what user_month_usage
-- summed per month before (its totals), plus the month's messages and the day its tier was read from (tier_summary
-- and user_current_tier want the latest). The date range reaches the fact scan (user_credit_reported looks at no
-- other day), so a load reads its months' days only. user_month_facts.delete.sql runs first for the same months,
-- so a load is idempotent.
-- Athena writes at most 100 partitions per INSERT INTO (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html):
-- the loader sends at most 90 months at once.
INSERT INTO ${database}.user_month_facts (
    month,
    userid,
    region,
    first_active,
    last_active,
    active_days,
    credits_used,
    overage_credits_used,
    overage_total_decreased,
    overage_clients_equal,
    overage_clients_differ,
    overage_days,
    overage_rising_days,
    subscription_tier,
    tier_day,
    usage_limit,
    overage_enabled,
    total_messages
)
SELECT
    month,
    userid,
    region,
    min(activity_date) AS first_active,
    max(activity_date) AS last_active,
    count(*) AS active_days,
    sum(credits_used) AS credits_used,
    sum(overage_credits_used) AS overage_credits_used,
    max(CASE WHEN overage_total_decreased THEN 1 ELSE 0 END) = 1 AS overage_total_decreased,
    max(CASE WHEN overage_clients_equal THEN 1 ELSE 0 END) = 1 AS overage_clients_equal,
    max(CASE WHEN overage_clients_differ THEN 1 ELSE 0 END) = 1 AS overage_clients_differ,
    count(CASE WHEN overage_reported > 0 THEN 1 END) AS overage_days,
    count(CASE WHEN overage_rose THEN 1 END) AS overage_rising_days,
    max(CASE WHEN tier_position = 1 THEN subscription_tier END) AS subscription_tier,
    max(CASE WHEN tier_position = 1 AND subscription_tier IS NOT NULL THEN activity_date END) AS tier_day,
    max(CASE WHEN limit_position = 1 THEN usage_limit END) AS usage_limit,
    max(CASE WHEN day_position = 1 THEN CASE WHEN overage_enabled THEN 1 ELSE 0 END END) = 1 AS overage_enabled,
    TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY month, userid, region
            ORDER BY CASE WHEN subscription_tier IS NULL THEN 1 ELSE 0 END, activity_date DESC
        ) AS tier_position,
        row_number() OVER (
            PARTITION BY month, userid, region
            ORDER BY CASE WHEN usage_limit IS NULL THEN 1 ELSE 0 END, activity_date DESC
        ) AS limit_position,
        row_number() OVER (PARTITION BY month, userid, region ORDER BY activity_date DESC) AS day_position
    FROM (
        -- The per-day readings of views/user_credit_daily.sql (keep the two alike; test_facts compares this table
        -- with that view summed per month, under both readings), written here over the filtered days: in the view
        -- the date filter would stop at its lag() window, and this load would read every day of the facts.
        SELECT
            d.*,
            CASE
                WHEN s.overage_reading = 'running_total' THEN d.overage_reported - COALESCE(d.previous_reported, 0)
                ELSE d.overage_reported
            END AS overage_credits_used,
            COALESCE(s.overage_reading = 'running_total' AND d.overage_reported < d.previous_reported, false)
                AS overage_total_decreased,
            COALESCE(d.overage_reported > d.previous_reported AND d.previous_reported > 0, false) AS overage_rose,
            d.overage_rows >= 2 AND d.overage_low = d.overage_high AS overage_clients_equal,
            d.overage_rows >= 2 AND d.overage_low < d.overage_high AS overage_clients_differ
        FROM (
            SELECT
                *,
                lag(overage_reported) OVER (PARTITION BY userid, region, month ORDER BY activity_date)
                    AS previous_reported
            FROM ${database}.user_credit_reported
            WHERE activity_date BETWEEN DATE '${first_date}' AND DATE '${last_date}'
        ) AS d
        CROSS JOIN (SELECT max(overage_reading) AS overage_reading FROM ${database}.plan_tiers) AS s
    ) AS readings
) AS ordered
GROUP BY month, userid, region
