-- Internal: every data line of every report file (user_report and both legacy sources), paired with
-- its own file's header line, so the views bind columns by header name, never by position.
-- Quotes are dropped before splitting (ids, ARNs, e-mails and numbers never contain a comma);
-- a byte-order mark would otherwise hide the header. The export stamp is the LAST 12-digit run
-- of the file name (the account id is 12 digits too, and split parts add _part_N after it).
-- family is part of the header join so a filter on it prunes the other tables' scans in Athena.
CREATE OR REPLACE VIEW ${database}.report_lines AS
WITH raw AS (
    SELECT
        'user_report' AS family,
        0 AS source_rank,
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.user_report_raw
    UNION ALL
    SELECT
        'by_user_analytic' AS family,
        1 AS source_rank,
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.kiro_by_user_analytic_raw
    UNION ALL
    SELECT
        'by_user_analytic' AS family,
        2 AS source_rank,
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.qdev_by_user_analytic_raw
),
marked AS (
    SELECT
        family,
        source_rank,
        source_path,
        clean_line,
        (lower(clean_line) LIKE 'date,userid%' OR lower(clean_line) LIKE 'userid,date%') AS is_header
    FROM raw
),
headers AS (
    SELECT family, source_path, max(clean_line) AS header_line
    FROM marked
    WHERE is_header
    GROUP BY family, source_path
)
SELECT
    r.family,
    r.source_rank,
    r.source_path,
    COALESCE(
        NULLIF(regexp_extract(regexp_extract(r.source_path, '[^/]*$'), '.*([0-9]{12})', 1), ''),
        '000000000000'
    ) AS export_stamp,
    split(lower(h.header_line), ',') AS header,
    split(r.clean_line, ',') AS fields
FROM marked AS r
JOIN headers AS h ON h.family = r.family AND h.source_path = r.source_path
WHERE r.clean_line <> ''
  AND NOT r.is_header
