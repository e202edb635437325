-- Dashboard: what arrived for each report day, so a missing, late, re-sent or reshaped export shows.
-- user_report: per (activity_date, client_type); legacy by_user_analytic: per activity_date and
-- source (client_type 'ALL': that report has no client column). files = distinct files, exports =
-- distinct export stamps (the parts of one split export share a stamp), resent = more than one
-- export for the same day x client, rows = data lines with that date in every file (re-sent duplicates
-- and rejected lines included; the ingest ledger says which lines were used), header_variants = distinct
-- header lines (columns that came, went or moved). newest_export is the stamp YYYYMMDDHHmm (UTC), text so
-- it sorts. Reads report_lines, so the date rules are the data views'; a line without a readable date
-- (or a file without a header) is in ingest_ledger, not here.
CREATE OR REPLACE VIEW ${database}.report_freshness AS
WITH headers AS (
    SELECT source_path, max(header_text) AS header_text
    FROM ${database}.report_line_status
    WHERE status = 'header'
    GROUP BY source_path
),
dated AS (
    SELECT
        CASE
            WHEN l.family = 'user_report' THEN 'user_report'
            WHEN l.source_rank = 1 THEN 'kiro_by_user_analytic'
            ELSE 'qdev_by_user_analytic'
        END AS source,
        l.activity_date,
        l.client_type,
        l.source_path,
        l.export_stamp,
        h.header_text
    FROM ${database}.report_line_status AS l
    LEFT JOIN headers AS h ON h.source_path = l.source_path
    WHERE l.status <> 'header'
      AND l.activity_date IS NOT NULL
)
SELECT
    activity_date,
    source,
    client_type,
    count(DISTINCT source_path) AS files,
    count(DISTINCT export_stamp) AS exports,
    max(export_stamp) AS newest_export,
    count(DISTINCT export_stamp) > 1 AS resent,
    count(*) AS rows,
    count(DISTINCT header_text) AS header_variants
FROM dated
GROUP BY activity_date, source, client_type
