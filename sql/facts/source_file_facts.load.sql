-- Load the months ${first_date} .. ${last_date} (first day of the first month, last day of the last): the valid
-- lines reporting on those months with their status (report_line_status: its ranking is partitioned by the day,
-- so the date range reaches the fact scan), and the header and rejected lines of those months' day folders (their
-- status is their line_status; source_day is the facts' partition). source_file_facts.delete.sql runs first for
-- the same months, so a load is idempotent. Athena writes at most 100 partitions per INSERT INTO
-- (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html): the loader sends at most 90 months at once.
INSERT INTO ${database}.source_file_facts (
    month,
    family,
    source_rank,
    region,
    source_path,
    export_stamp,
    header_text,
    header_columns,
    line_client,
    first_activity_date,
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
    rejected_bad_number
)
SELECT
    month,
    family,
    source_rank,
    region,
    source_path,
    export_stamp,
    max(header_text) AS header_text,
    max(header_columns) AS header_columns,
    max(CASE WHEN status IN ('used', 'superseded') THEN client_type END) AS line_client,
    min(activity_date) AS first_activity_date,
    count(CASE WHEN status = 'header' THEN 1 END) AS header_lines,
    count(CASE WHEN status <> 'header' THEN 1 END) AS lines_read,
    count(CASE WHEN status = 'used' THEN 1 END) AS rows_used,
    count(CASE WHEN status = 'superseded' THEN 1 END) AS rows_superseded,
    count(CASE WHEN status = 'rejected' THEN 1 END) AS rows_rejected,
    count(CASE WHEN reject_reason = 'no header' THEN 1 END) AS rejected_no_header,
    count(CASE WHEN reject_reason = 'unknown header layout' THEN 1 END) AS rejected_header_layout,
    count(CASE WHEN reject_reason = 'missing required column' THEN 1 END) AS rejected_missing_column,
    count(CASE WHEN reject_reason = 'not UTF-8' THEN 1 END) AS rejected_not_utf8,
    count(CASE WHEN reject_reason = 'truncated line' THEN 1 END) AS rejected_truncated,
    count(CASE WHEN reject_reason = 'extra fields (a comma in a field)' THEN 1 END) AS rejected_extra_fields,
    count(CASE WHEN reject_reason = 'bad date' THEN 1 END) AS rejected_bad_date,
    count(CASE WHEN reject_reason = 'no user id' THEN 1 END) AS rejected_no_user_id,
    count(CASE WHEN reject_reason = 'bad number' THEN 1 END) AS rejected_bad_number
FROM (
    SELECT
        TRY_CAST(date_trunc('month', activity_date) AS DATE) AS month,
        family, source_rank, region, source_path, export_stamp, header_text, header_columns, client_type, activity_date,
        status,
        reject_reason
    FROM ${database}.report_line_status
    WHERE line_status = 'valid' AND activity_date BETWEEN DATE '${first_date}' AND DATE '${last_date}'
    UNION ALL
    SELECT
        TRY_CAST(date_trunc('month', source_day) AS DATE) AS month,
        family, source_rank, region, source_path, export_stamp, header_text, header_columns, client_type, activity_date,
        line_status AS status,
        reject_reason
    FROM ${database}.report_line_facts
    WHERE line_status <> 'valid' AND source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
) AS lines
GROUP BY month, family, source_rank, region, source_path, export_stamp
