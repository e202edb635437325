-- Internal: every data line of the legacy by_user_analytic files from both sources (Kiro first,
-- then Amazon Q Developer), paired with its own file's header. See user_report_lines.sql.
CREATE OR REPLACE VIEW ${database}.legacy_report_lines AS
WITH raw AS (
    SELECT
        1 AS source_rank,
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.kiro_by_user_analytic_raw
    UNION ALL
    SELECT
        2 AS source_rank,
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.qdev_by_user_analytic_raw
),
headers AS (
    SELECT source_path, max(clean_line) AS header_line
    FROM raw
    WHERE lower(clean_line) LIKE 'userid,date%'
    GROUP BY source_path
)
SELECT
    r.source_rank,
    r.source_path,
    COALESCE(
        NULLIF(regexp_extract(regexp_extract(r.source_path, '[^/]*$'), '.*([0-9]{12})', 1), ''),
        '000000000000'
    ) AS export_stamp,
    split(lower(h.header_line), ',') AS header,
    split(r.clean_line, ',') AS fields
FROM raw AS r
JOIN headers AS h ON h.source_path = r.source_path
WHERE r.clean_line <> ''
  AND lower(r.clean_line) NOT LIKE 'userid,date%'
