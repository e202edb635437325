-- The report files each day folder's facts were loaded from (facts.refresh_facts compares them with what S3 lists
-- under the folder, and reloads the days that differ). Two columns of the facts: a small scan.
SELECT source_day, source_path
FROM report_line_facts
GROUP BY source_day, source_path
