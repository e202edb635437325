-- Internal: every line of report_line_facts with its status: 'header', 'rejected' (with reject_reason), or, for
-- a valid line, 'used' (the newest export of its key) or 'superseded' (the same key in a newer export, or a later
-- path of the same stamp). The key is (family, region, activity_date, userid, client_type): the same user, day and
-- client in two regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
-- region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path. Only valid
-- lines compete: a re-sent line that is rejected leaves the older readable one in use. Decided here, over every
-- loaded day, and not when a day is loaded: a re-sent export of an old day changes which line is used.
-- The ranking reads the key and the three ordering columns only (not every fact column: issue 12), keeps each key's
-- winning file, and every valid line is joined back to its key's winner: used when it is of that file. The INNER
-- join on the key (activity_date included; none of its columns is NULL on a valid line) lets a date predicate on
-- this view reach both fact scans, through the window, which is partitioned by the key. Two lines of one key in the
-- same file (which no export writes) would both be used.
CREATE OR REPLACE VIEW ${database}.report_line_status AS
SELECT
    f.*,  -- the fact columns as they are (line_status included), so a new fact column needs no edit here
    CASE
        WHEN f.export_stamp = w.export_stamp AND f.source_rank = w.source_rank AND f.source_path = w.source_path
            THEN 'used'
        ELSE 'superseded'
    END AS status
FROM ${database}.report_line_facts AS f
INNER JOIN (
    SELECT family, region, activity_date, userid, client_type, export_stamp, source_rank, source_path
    FROM (
        SELECT
            family,
            region,
            activity_date,
            userid,
            client_type,
            export_stamp,
            source_rank,
            source_path,
            row_number() OVER (
                PARTITION BY family, region, activity_date, userid, client_type
                ORDER BY export_stamp DESC, source_rank ASC, source_path DESC
            ) AS line_rank
        FROM ${database}.report_line_facts
        WHERE line_status = 'valid'
    ) AS ranked
    WHERE line_rank = 1
) AS w
    ON w.family = f.family
    AND w.region = f.region
    AND w.activity_date = f.activity_date
    AND w.userid = f.userid
    AND w.client_type = f.client_type
WHERE f.line_status = 'valid'
UNION ALL
SELECT
    f.*,
    f.line_status AS status
FROM ${database}.report_line_facts AS f
WHERE f.line_status <> 'valid'
