-- Internal: every line of report_line_facts with its status: 'header', 'rejected' (with reject_reason), or, for
-- a valid line, 'used' (the newest export of its key) or 'superseded' (the same key in a newer export, or a later
-- path of the same stamp). The key is (family, region, activity_date, userid, client_type): the same user, day and
-- client in two regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
-- region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path. Only valid
-- lines compete: a re-sent line that is rejected leaves the older readable one in use. Decided here, over every
-- loaded day, and not when a day is loaded: a re-sent export of an old day changes which line is used.
-- Issue 12: no window over every fact column. A key with one valid line (nearly all of them) is used as it is; only
-- the contested keys (more than one valid line: a re-sent export, both legacy sources) are ranked, over the key and
-- the three ordering columns, and each line of such a key is used when it is of the key's winning file. The joins are
-- on the key, activity_date included (none of its columns is NULL on a valid line), so a date predicate on this view
-- reaches every fact scan (tests/test_refresh_scan.py). Two lines of one key in the same file (which no export
-- writes) would both be used.
CREATE OR REPLACE VIEW ${database}.report_line_status AS
WITH contested AS (
    SELECT family, region, activity_date, userid, client_type
    FROM ${database}.report_line_facts
    WHERE line_status = 'valid'
    GROUP BY family, region, activity_date, userid, client_type
    HAVING count(*) > 1
),
winners AS (
    SELECT family, region, activity_date, userid, client_type, export_stamp, source_rank, source_path
    FROM (
        SELECT
            l.family,
            l.region,
            l.activity_date,
            l.userid,
            l.client_type,
            l.export_stamp,
            l.source_rank,
            l.source_path,
            row_number() OVER (
                PARTITION BY l.family, l.region, l.activity_date, l.userid, l.client_type
                ORDER BY l.export_stamp DESC, l.source_rank ASC, l.source_path DESC
            ) AS line_rank
        FROM ${database}.report_line_facts AS l
        INNER JOIN contested AS c
            ON c.family = l.family
            AND c.region = l.region
            AND c.activity_date = l.activity_date
            AND c.userid = l.userid
            AND c.client_type = l.client_type
        WHERE l.line_status = 'valid'
    ) AS ranked
    WHERE line_rank = 1
)
SELECT
    f.*,  -- the fact columns as they are (line_status included), so a new fact column needs no edit here
    CASE
        WHEN w.userid IS NULL THEN 'used'  -- the key's only valid line
        WHEN f.export_stamp = w.export_stamp AND f.source_rank = w.source_rank AND f.source_path = w.source_path
            THEN 'used'
        ELSE 'superseded'
    END AS status
FROM ${database}.report_line_facts AS f
LEFT JOIN winners AS w
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
