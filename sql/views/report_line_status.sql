-- Internal: every line of report_line_facts with its status: 'header', 'rejected' (with reject_reason), or, for
-- a valid line, 'used' (the newest export of its key) or 'superseded' (the same key in a newer export, or a later
-- path of the same stamp). The key is (family, region, activity_date, userid, client_type): the same user, day and
-- client in two regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
-- region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path. Only valid
-- lines compete: a re-sent line that is rejected leaves the older readable one in use. Decided here, over every
-- loaded day, and not when a day is loaded: a re-sent export of an old day changes which line is used.
CREATE OR REPLACE VIEW ${database}.report_line_status AS
SELECT
    *,  -- the fact columns as they are (line_status included), so a new fact column needs no edit here
    CASE
        WHEN line_status <> 'valid' THEN line_status
        WHEN row_number() OVER (
            PARTITION BY line_status, family, region, activity_date, userid, client_type
            ORDER BY export_stamp DESC, source_rank ASC, source_path DESC
        ) = 1 THEN 'used'
        ELSE 'superseded'
    END AS status
FROM ${database}.report_line_facts
