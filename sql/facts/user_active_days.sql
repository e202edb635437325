-- Aggregate fact: each (day, user) with any valid line in either report, the rows of views/user_days.sql, kept
-- per month so the views over every day (active_users_daily, seat_utilisation, new_vs_returning_daily's first
-- days) read two small columns instead of every fact line on each full SPICE refresh (issue 12). Kept by the same
-- job as report_line_facts (facts.refresh_facts): every month a loaded day folder reports on is deleted here and
-- loaded again, so a re-sent export of an old day reaches it.
-- An Iceberg table (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html),
-- partitioned by month, the unit a reload deletes and inserts.
CREATE TABLE IF NOT EXISTS ${database}.user_active_days (
    month date,
    activity_date date,
    userid string
)
PARTITIONED BY (month)
LOCATION '${facts_location}user_active_days/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'zstd',
    'vacuum_max_snapshot_age_seconds' = '259200'
)
