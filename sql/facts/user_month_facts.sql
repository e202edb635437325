-- Aggregate fact: one row per seat's month (month, userid, region; a seat as user_month_usage says) of the cost
-- model's daily figures (views/user_credit_daily.sql), so the views over every month (user_month_usage and so
-- monthly_user_credits, monthly_credit_forecast, credit_forecast_watchlist, tier_month_costs; tier_summary;
-- user_current_tier) read these few rows instead of every fact line on each full SPICE refresh (issue 12).
-- Kept by the same job as report_line_facts (facts.refresh_facts): after a day folder is loaded, every month its
-- lines report on is deleted here and loaded again from the views, so a re-sent export of an old day reaches it.
-- It holds what the views compute with the deployed config (plans.tiers, plans.overage_reading): step 5 reloads
-- every month after it replaced the views, so a changed config never leaves old figures here.
--   first_active/last_active/active_days  the seat's credit-report days in the month;
--   subscription_tier/tier_day  the tier on the month's latest day that names one, and that day;
--   usage_limit  the month's latest Usage_Limit; overage_enabled  the flag of the month's latest day;
--   overage_* flags and counts  what user_month_usage.overage_check tests.
-- An Iceberg table (Athena engine 3, https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html)
-- partitioned by month, the unit a reload deletes and inserts.
CREATE TABLE IF NOT EXISTS ${database}.user_month_facts (
    month date,
    userid string,
    region string,
    first_active date,
    last_active date,
    active_days bigint,
    credits_used double,
    overage_credits_used double,
    overage_total_decreased boolean,
    overage_clients_equal boolean,
    overage_clients_differ boolean,
    overage_days bigint,
    overage_rising_days bigint,
    subscription_tier string,
    tier_day date,
    usage_limit double,
    overage_enabled boolean,
    total_messages bigint
)
PARTITIONED BY (month)
LOCATION '${facts_location}user_month_facts/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'zstd',
    'vacuum_max_snapshot_age_seconds' = '259200'
)
