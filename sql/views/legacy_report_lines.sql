-- Internal: every data line of the legacy by_user_analytic files from both sources (source_rank 1 =
-- Kiro, 2 = Amazon Q Developer) with its own file's header and export stamp (rules in report_lines.sql).
CREATE OR REPLACE VIEW ${database}.legacy_report_lines AS
SELECT
    source_rank,
    source_path,
    export_stamp,
    header,
    fields
FROM ${database}.report_lines
WHERE family = 'by_user_analytic'
