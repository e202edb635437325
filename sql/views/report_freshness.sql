-- Dashboard: what arrived for each report day, so a missing, late, re-sent or reshaped export shows.
-- user_report: per (activity_date, client_type); legacy by_user_analytic: per activity_date and
-- source (client_type 'ALL': that report has no client column). files = distinct files, exports =
-- distinct export stamps (the parts of one split export share a stamp), resent = more than one
-- export for the same day x client, rows = data lines in every file (re-sent duplicates included;
-- the data views keep only the newest export), header_variants = distinct header lines (columns
-- that came, went or moved). newest_export is the stamp YYYYMMDDHHmm (UTC), text so it sorts.
-- Reads the parsed lines (user_report_lines, legacy_report_lines); the date rules are the data views'.
CREATE OR REPLACE VIEW ${database}.report_freshness AS
WITH current_lines AS (
    SELECT
        'user_report' AS source,
        TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'date'), 0))) AS DATE) AS activity_date,
        COALESCE(
            NULLIF(upper(trim(element_at(fields, NULLIF(array_position(header, 'client_type'), 0)))), ''),
            'UNKNOWN'
        ) AS client_type,
        source_path,
        export_stamp,
        header
    FROM ${database}.user_report_lines
),
legacy_cells AS (
    SELECT
        CASE WHEN source_rank = 1 THEN 'kiro_by_user_analytic' ELSE 'qdev_by_user_analytic' END AS source,
        trim(element_at(fields, NULLIF(array_position(header, 'date'), 0))) AS c_date,
        source_path,
        export_stamp,
        header
    FROM ${database}.legacy_report_lines
),
legacy_lines AS (
    SELECT
        source,
        COALESCE(
            TRY_CAST(
                split_part(c_date, '-', 3) || '-' || lpad(split_part(c_date, '-', 1), 2, '0')
                || '-' || lpad(split_part(c_date, '-', 2), 2, '0') AS DATE
            ),
            TRY_CAST(c_date AS DATE)
        ) AS activity_date,
        'ALL' AS client_type,
        source_path,
        export_stamp,
        header
    FROM legacy_cells
),
all_lines AS (
    SELECT * FROM current_lines
    UNION ALL
    SELECT * FROM legacy_lines
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
    count(DISTINCT header) AS header_variants
FROM all_lines
WHERE activity_date IS NOT NULL
GROUP BY activity_date, source, client_type
