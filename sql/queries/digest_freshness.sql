-- Weekly digest: the newest report day that arrived in either report (report_freshness), so the digest can warn
-- when the exports stopped. The age is measured against the day the digest runs, in the Lambda.
SELECT max(activity_date) AS newest_report_day
FROM report_freshness
