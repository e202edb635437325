-- Aggregate fact: the ingest ledger's counts (views/ingest_ledger.sql) per report file and month, so a full refresh
-- of the ledger reads one row per file instead of every fact line with its status (issue 12). A file's valid lines
-- are counted under the month they report on: which of them is used or superseded (views/report_line_status.sql)
-- is decided among the lines of the same day, so a month's counts need that month's lines only, and the date
-- range reaches the fact scan. Its header and rejected lines, whose status is their own, are counted under the
-- month of the file's day folder. ingest_ledger sums a file's months. Kept by the same job as report_line_facts
-- (facts.refresh_facts): every month a loaded day folder holds or reports on is deleted here and loaded again, so a
-- re-sent export of an old day moves the old export's lines to superseded here too.
-- An Iceberg table (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html),
-- partitioned by month, the unit a reload deletes and inserts.
CREATE TABLE IF NOT EXISTS ${database}.source_file_facts (
    month date,
    family string,
    source_rank int,
    region string,
    source_path string,
    export_stamp string,
    header_text string,
    header_columns int,
    line_client string,
    first_activity_date date,
    header_lines bigint,
    lines_read bigint,
    rows_used bigint,
    rows_superseded bigint,
    rows_rejected bigint,
    rejected_no_header bigint,
    rejected_header_layout bigint,
    rejected_missing_column bigint,
    rejected_not_utf8 bigint,
    rejected_truncated bigint,
    rejected_extra_fields bigint,
    rejected_bad_date bigint,
    rejected_no_user_id bigint,
    rejected_bad_number bigint
)
PARTITIONED BY (month)
LOCATION '${facts_location}source_file_facts/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'zstd',
    'vacuum_max_snapshot_age_seconds' = '259200'
)
