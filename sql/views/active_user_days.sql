-- Dashboard: each (day, user) active in either report (user_days), with the display name. The "Active users" KPIs
-- count DISTINCT_COUNT(userid) here, so they count the same people as daily_summary.active_users and the daily
-- chart beside them; in_credit_report is 1 when the user is also in that day's credit report. subscription_tier
-- (the day's tier, 'UNKNOWN' off the credit report) and team (user_teams) let the controls filter it; being every
-- person seen in either report, it is also what the Tier, Team and User drop-downs list (catalogue/controls.json).
CREATE OR REPLACE VIEW ${database}.active_user_days AS
SELECT
    d.activity_date,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    CASE WHEN c.userid IS NULL THEN 0 ELSE 1 END AS in_credit_report,
    COALESCE(c.subscription_tier, 'UNKNOWN') AS subscription_tier,
    COALESCE(t.team, '(unknown)') AS team
FROM ${database}.user_days AS d
-- One row per (day, user) of the credit report (user_credit_daily has one per region, which would repeat the user).
LEFT JOIN ${database}.user_day_tiers AS c ON c.activity_date = d.activity_date AND c.userid = d.userid
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
LEFT JOIN ${database}.user_teams AS t ON t.userid = d.userid
