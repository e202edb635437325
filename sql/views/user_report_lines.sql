-- Internal: every data line of every user_report file with its own file's header and export stamp
-- (parsing rules in report_lines.sql).
CREATE OR REPLACE VIEW ${database}.user_report_lines AS
SELECT
    source_path,
    export_stamp,
    header,
    fields
FROM ${database}.report_lines
WHERE family = 'user_report'
