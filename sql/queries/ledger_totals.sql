-- The ingest ledger's totals, printed by step 4 and at the end of a local build: files, lines and what became of
-- them (used, superseded by a re-sent export, rejected by reason), and the files whose header drifted.
-- Runs in the session database (no placeholders), on the ingest_ledger view that step 5 creates.
SELECT
    count(*) AS files,
    COALESCE(sum(lines_read), 0) AS lines_read,
    COALESCE(sum(rows_used), 0) AS rows_used,
    COALESCE(sum(rows_superseded), 0) AS rows_superseded,
    COALESCE(sum(rows_rejected), 0) AS rows_rejected,
    count(CASE WHEN rows_rejected > 0 THEN 1 END) AS files_with_rejections,
    count(CASE WHEN header_drift THEN 1 END) AS files_with_header_drift,
    COALESCE(sum(rejected_no_header), 0) AS rejected_no_header,
    COALESCE(sum(rejected_header_layout), 0) AS rejected_header_layout,
    COALESCE(sum(rejected_missing_column), 0) AS rejected_missing_column,
    COALESCE(sum(rejected_not_utf8), 0) AS rejected_not_utf8,
    COALESCE(sum(rejected_truncated), 0) AS rejected_truncated,
    COALESCE(sum(rejected_extra_fields), 0) AS rejected_extra_fields,
    COALESCE(sum(rejected_bad_date), 0) AS rejected_bad_date,
    COALESCE(sum(rejected_no_user_id), 0) AS rejected_no_user_id,
    COALESCE(sum(rejected_bad_number), 0) AS rejected_bad_number
FROM ingest_ledger
