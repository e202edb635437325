-- Step 4 (verify): data rows per raw table (lines that carry a user id, so headers do not count) and the first
-- and last day present. Day comes from the projected partition
-- column day (the yyyy/MM/dd folders), printed as YYYY-MM-DD.
SELECT 'user_report_raw' AS table_name,
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')) AS row_count,
       min(replace(day, '/', '-')) AS first_day,
       max(replace(day, '/', '-')) AS last_day
FROM user_report_raw
UNION ALL
SELECT 'kiro_by_user_analytic_raw',
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')),
       min(replace(day, '/', '-')),
       max(replace(day, '/', '-'))
FROM kiro_by_user_analytic_raw
UNION ALL
SELECT 'qdev_by_user_analytic_raw',
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')),
       min(replace(day, '/', '-')),
       max(replace(day, '/', '-'))
FROM qdev_by_user_analytic_raw
