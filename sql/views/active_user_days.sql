-- Dashboard: each (day, user) active in either report (user_days), with the display name. The "Active users" KPIs
-- count DISTINCT_COUNT(userid) here, so they count the same people as daily_summary.active_users and the daily
-- chart beside them; in_credit_report is 1 when the user is also in that day's credit report.
CREATE OR REPLACE VIEW ${database}.active_user_days AS
SELECT
    d.activity_date,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    CASE WHEN c.userid IS NULL THEN 0 ELSE 1 END AS in_credit_report
FROM ${database}.user_days AS d
-- One row per (day, user) of the credit report: user_credit_daily has one per region, which would repeat the user.
LEFT JOIN (
    SELECT DISTINCT activity_date, userid
    FROM ${database}.user_credit_daily
) AS c ON c.activity_date = d.activity_date AND c.userid = d.userid
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
