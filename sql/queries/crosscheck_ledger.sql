-- ./deploy.sh --verify: the ingest ledger per file day and report (see crosscheck_daily.sql): files, and lines
-- read, used, superseded and rejected, so both engines are seen to classify every line alike. One row per
-- (day, source).
SELECT
    activity_date,
    source,
    count(*) AS files,
    sum(lines_read) AS lines_read,
    sum(rows_used) AS rows_used,
    sum(rows_superseded) AS rows_superseded,
    sum(rows_rejected) AS rows_rejected
FROM ingest_ledger
GROUP BY activity_date, source
