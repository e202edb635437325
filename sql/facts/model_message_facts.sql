-- Line facts, long form: the <model>_messages cells of every valid user_report line, one row per cell that holds
-- messages (a blank or 0 cell adds nothing to any count), so model_usage_daily sums rows instead of unnesting each
-- line's arrays (issue 12). Loaded by the same job, for the same day folders and right after report_line_facts
-- (facts.LINE_FACTS, in that order), from those days' line facts: a re-sent day replaces both. The line a cell
-- belongs to is (source_path, activity_date, userid, client_type): model_usage_daily keeps the cells of the lines
-- report_line_status uses. An Iceberg table (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html)
-- partitioned by source_day like report_line_facts; step 5 empties and reloads both when either is created or its
-- columns change (views.ensure_facts), so the two always hold the same days.
CREATE TABLE IF NOT EXISTS ${database}.model_message_facts (
    source_day date,
    source_path string,
    region string,
    activity_date date,
    userid string,
    client_type string,
    model string,
    messages bigint
)
PARTITIONED BY (source_day)
LOCATION '${facts_location}model_message_facts/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'zstd',
    'vacuum_max_snapshot_age_seconds' = '259200'
)
