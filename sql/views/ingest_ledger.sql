-- Dashboard: the ingest ledger, one row per report file, accounting for every non-blank line of it:
-- lines_read = rows_used + rows_superseded + rows_rejected (header lines apart, in header_lines), and the
-- rejected lines by reason (the reasons of report_lines.sql, one column each). activity_date is the day the file
-- reports on: the day folder of its S3 key (.../YYYY/MM/DD/00/, else its first line's date), so a file whose
-- lines cannot be read still has a day; client_type
-- is the lines' Client_Type, else the file name's (KIRO_IDE_<account>_user_report_...), 'ALL' for the legacy
-- report. header is the file's header (names trimmed, lower-cased); header_drift = its set of names differs from
-- the previous export's of the same source, region and client (by export stamp): columns came, went or were
-- renamed (not merely moved), or a name is not in the form Kiro writes. The counts are the facts job's, per file
-- and month (facts/source_file_facts.sql, summed here), so a full refresh reads one row per file, not every line.
CREATE OR REPLACE VIEW ${database}.ingest_ledger AS
WITH files AS (
    SELECT
        CASE
            WHEN family = 'user_report' THEN 'user_report'
            WHEN source_rank = 1 THEN 'kiro_by_user_analytic'
            ELSE 'qdev_by_user_analytic'
        END AS source,
        region,
        source_path,
        export_stamp,
        max(header_text) AS header,
        max(header_columns) AS header_columns,
        max(line_client) AS line_client,
        min(first_activity_date) AS first_activity_date,
        TRY_CAST(sum(header_lines) AS BIGINT) AS header_lines,
        TRY_CAST(sum(lines_read) AS BIGINT) AS lines_read,
        TRY_CAST(sum(rows_used) AS BIGINT) AS rows_used,
        TRY_CAST(sum(rows_superseded) AS BIGINT) AS rows_superseded,
        TRY_CAST(sum(rows_rejected) AS BIGINT) AS rows_rejected,
        TRY_CAST(sum(rejected_no_header) AS BIGINT) AS rejected_no_header,
        TRY_CAST(sum(rejected_header_layout) AS BIGINT) AS rejected_header_layout,
        TRY_CAST(sum(rejected_missing_column) AS BIGINT) AS rejected_missing_column,
        TRY_CAST(sum(rejected_not_utf8) AS BIGINT) AS rejected_not_utf8,
        TRY_CAST(sum(rejected_truncated) AS BIGINT) AS rejected_truncated,
        TRY_CAST(sum(rejected_extra_fields) AS BIGINT) AS rejected_extra_fields,
        TRY_CAST(sum(rejected_bad_date) AS BIGINT) AS rejected_bad_date,
        TRY_CAST(sum(rejected_no_user_id) AS BIGINT) AS rejected_no_user_id,
        TRY_CAST(sum(rejected_bad_number) AS BIGINT) AS rejected_bad_number
    FROM ${database}.source_file_facts
    GROUP BY family, source_rank, region, source_path, export_stamp
),
named AS (
    SELECT
        *,
        COALESCE(
            TRY_CAST(replace(regexp_extract(source_path, '/([0-9]{4}/[0-9]{2}/[0-9]{2})/[^/]*/[^/]*$', 1), '/', '-')
                AS DATE),
            first_activity_date
        ) AS activity_date,
        CASE
            WHEN source <> 'user_report' THEN 'ALL'
            ELSE COALESCE(
                line_client,
                NULLIF(regexp_extract(regexp_extract(source_path, '[^/]*$'), '^([A-Za-z_]+)_[0-9]{12}_', 1), ''),
                'UNKNOWN'
            )
        END AS client_type
    FROM files
)
SELECT
    activity_date,
    source,
    region,
    client_type,
    source_path,
    export_stamp,
    header_lines,
    lines_read,
    rows_used,
    rows_superseded,
    rows_rejected,
    rejected_no_header,
    rejected_header_layout,
    rejected_missing_column,
    rejected_not_utf8,
    rejected_truncated,
    rejected_extra_fields,
    rejected_bad_date,
    rejected_no_user_id,
    rejected_bad_number,
    header_columns,
    header,
    -- A real change only: the set of names differs from the previous export's (a column added, removed or
    -- renamed; the same names in another order are bound by name and read the same), or a name is not in the
    -- form Kiro writes (a letter, then letters, digits, _ or .), such as claude-sonnet-4_messages for
    -- claude_sonnet_4_messages: read as written, under another name, so it must not pass unseen.
    COALESCE(
        array_sort(split(header, ',')) <> lag(array_sort(split(header, ','))) OVER (
            PARTITION BY source, region, client_type ORDER BY export_stamp, source_path
        ),
        false
    ) OR NOT regexp_like(COALESCE(header, 'date'), '^[a-z][a-z0-9_.]*(,[a-z][a-z0-9_.]*)*$') AS header_drift
FROM named
