-- The report files with the most rejected lines (step 4 and the local build name them), with the count per reason.
SELECT
    source_path,
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
FROM ingest_ledger
WHERE rows_rejected > 0
ORDER BY rows_rejected DESC, source_path
LIMIT 5
