-- Internal: the cost model's figures per (day, user, region) for the views that show days (daily_summary,
-- user_daily_detail, team_user_daily, active_user_days): the same numbers as user_credit_daily, without its reading
-- checks. Under the daily reading (the default) a day's overage is that day's own, so the rows come from
-- user_credit_reported, which looks at no other day: the date predicate of a SPICE incremental refresh
-- (quicksight/refresh.json) then reaches the fact table and Athena reads the lookback window's days only. Under
-- running_total a day needs the previous active day of its month, so the rows come from user_credit_daily (every
-- day is read). The branch whose WHERE is constant false is dropped when the query is planned.
CREATE OR REPLACE VIEW ${database}.user_day_credits AS
SELECT
    activity_date,
    month,
    userid,
    region,
    subscription_tier,
    clients,
    chat_conversations,
    credits_used,
    overage_reported AS overage_credits_used,
    credits_used + overage_reported AS consumption_credits,
    total_messages,
    usage_limit,
    overage_cap,
    overage_enabled
FROM ${database}.user_credit_reported
WHERE '${overage_reading}' <> 'running_total'
UNION ALL
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
    consumption_credits,
    total_messages,
    usage_limit,
    overage_cap,
    overage_enabled
FROM ${database}.user_credit_daily
WHERE '${overage_reading}' = 'running_total'
