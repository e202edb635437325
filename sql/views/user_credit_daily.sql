-- Internal: the credit report per (day, user, region), summed over clients: the one place a day's plan credits,
-- overage and consumption are defined (sql/README.md, Plans). Every daily cost figure reads this view.
-- region is part of the grain because a Kiro subscription belongs to a profile, and a profile to one region: a user
-- with profiles in two regions holds two seats, each with its own tier, allowance, overage and running total.
-- Readers that want one row per (day, user) sum over region.
-- Overage_Credits_Used is read as plans.overage_reading says (the Kiro docs disagree on it):
--   daily         each row holds that day's overage of its client: the day's overage is their sum;
--   running_total each row holds the user's overage so far this month (the same total on every client's row):
--                 the day's total is the largest row, the day's overage is that total minus the previous active
--                 day's total in the same month (the first active day of a month counts its whole total, which
--                 includes days before the data began).
-- What does not fit the configured reading is flagged per day, for user_month_usage.overage_check:
--   overage_clients_equal   two clients carry the same non-zero value: a user total repeated on each row, which
--                           a daily reading would count twice;
--   overage_clients_differ  two clients carry different non-zero values: per-client figures, not one user total;
--   overage_rose            the value is above the previous active day's non-zero value (a month of rising
--                           values is what a running total looks like);
--   overage_total_decreased a running total that falls.
-- consumption_credits = credits_used (from the plan) + overage_credits_used (beyond it).
-- subscription_tier is the day's highest plan (two clients on different tiers pay the higher tier once);
-- usage_limit the day's Usage_Limit (NULL when no file of the day has the column).
CREATE OR REPLACE VIEW ${database}.user_credit_daily AS
WITH
-- The previous active day's reading in the same month, by LAG (one sort of the per-day rows, no self-join).
readings AS (
    SELECT
        d.*,
        CASE
            WHEN '${overage_reading}' = 'running_total' THEN d.overage_reported - COALESCE(d.previous_reported, 0)
            ELSE d.overage_reported
        END AS overage_credits_used,
        COALESCE('${overage_reading}' = 'running_total' AND d.overage_reported < d.previous_reported, false)
            AS overage_total_decreased,
        COALESCE(d.overage_reported > d.previous_reported AND d.previous_reported > 0, false) AS overage_rose,
        d.overage_rows >= 2 AND d.overage_low = d.overage_high AS overage_clients_equal,
        d.overage_rows >= 2 AND d.overage_low < d.overage_high AS overage_clients_differ
    FROM (
        SELECT
            *,
            lag(overage_reported) OVER (PARTITION BY userid, region, month ORDER BY activity_date) AS previous_reported
        FROM ${database}.user_credit_reported
    ) AS d
)
SELECT
    activity_date,
    month,
    userid,
    region,
    subscription_tier,
    clients,
    chat_conversations,
    credits_used,
    overage_credits_used,
    credits_used + overage_credits_used AS consumption_credits,
    overage_reported,
    overage_total_decreased,
    overage_rose,
    overage_clients_equal,
    overage_clients_differ,
    total_messages,
    usage_limit,
    overage_cap,
    overage_enabled
FROM readings
