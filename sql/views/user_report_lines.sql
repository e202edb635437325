-- Internal: every data line of every user_report file, paired with its own file's header.
-- Quotes are dropped before splitting (ids, ARNs, e-mails and numbers never contain a comma);
-- a byte-order mark would otherwise hide the header. The export stamp is the LAST 12-digit run
-- of the file name (the account id is 12 digits too, and split parts add _part_N after it).
CREATE OR REPLACE VIEW ${database}.user_report_lines AS
WITH raw AS (
    SELECT
        "$path" AS source_path,
        replace(replace(line, '"', ''), chr(65279), '') AS clean_line
    FROM ${database}.user_report_raw
),
headers AS (
    SELECT source_path, max(clean_line) AS header_line
    FROM raw
    WHERE lower(clean_line) LIKE 'date,userid%'
    GROUP BY source_path
)
SELECT
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
  AND lower(r.clean_line) NOT LIKE 'date,userid%'
