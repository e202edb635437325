-- Dashboard: per day and Identity Center group (team): distinct active users, credits and messages.
-- A user in two groups counts in both teams (see team_user_daily), so do not add teams up to a
-- company total; summing users over days gives user-days (use team_user_daily for people).
CREATE OR REPLACE VIEW ${database}.team_daily AS
SELECT
    activity_date,
    team,
    count(DISTINCT userid) AS users,
    sum(credits_used) AS credits_used,
    sum(overage_credits_used) AS overage_credits_used,
    TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
FROM ${database}.team_user_daily
GROUP BY activity_date, team
