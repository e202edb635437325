-- Step 4 (verify): data rows per raw table (lines that carry a user id, so headers do not count) and the first
-- and last day present. Day comes from the partition folders year/month/day.
SELECT 'user_report_raw' AS table_name,
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')) AS row_count,
       min(year || '-' || month || '-' || day) AS first_day,
       max(year || '-' || month || '-' || day) AS last_day
FROM user_report_raw
UNION ALL
SELECT 'kiro_by_user_analytic_raw',
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')),
       min(year || '-' || month || '-' || day),
       max(year || '-' || month || '-' || day)
FROM kiro_by_user_analytic_raw
UNION ALL
SELECT 'qdev_by_user_analytic_raw',
       count_if(regexp_like(line, '(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')),
       min(year || '-' || month || '-' || day),
       max(year || '-' || month || '-' || day)
FROM qdev_by_user_analytic_raw
