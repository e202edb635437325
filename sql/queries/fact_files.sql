-- The report files each day folder's facts were loaded from (facts.refresh_facts compares them with what S3 lists
-- under the folder, and reloads the days that differ), with the span of days their lines report on (the months the
-- aggregate facts reload when the folder is loaded again). Three columns of the facts: a small scan.
SELECT source_day, source_path, min(activity_date) AS first_activity_date, max(activity_date) AS last_activity_date
FROM report_line_facts
GROUP BY source_day, source_path
