-- Dashboard: per day, two different "new" figures, labelled apart:
--   new_users        users whose credit-report row says New_User = true that day (Kiro: the day the
--                    subscription was activated); NULL on a day when no file had the New_User column;
--   first_seen_users users active for the first time in the data (either report), which also counts people
--                    who subscribed before the reports begin; returning_users = the day's other active users.
-- first_seen_users + returning_users = daily_summary.active_users. The first days come from the facts job's
-- user_active_days (facts/), so the incremental refresh's window reads the lines of its days only, and that table.
CREATE OR REPLACE VIEW ${database}.new_vs_returning_daily AS
WITH firsts AS (
    SELECT userid, min(activity_date) AS first_date
    FROM ${database}.user_active_days
    GROUP BY userid
),
flags AS (
    SELECT
        activity_date,
        count(DISTINCT CASE WHEN new_user THEN userid END) AS new_users,
        max(CASE WHEN new_user IS NOT NULL THEN 1 ELSE 0 END) AS has_new_user_column
    FROM ${database}.user_activity_daily
    GROUP BY activity_date
),
people AS (
    SELECT
        u.activity_date,
        count(DISTINCT CASE WHEN u.activity_date = f.first_date THEN u.userid END) AS first_seen_users,
        count(DISTINCT CASE WHEN u.activity_date > f.first_date THEN u.userid END) AS returning_users
    FROM ${database}.user_days AS u
    JOIN firsts AS f ON f.userid = u.userid
    GROUP BY u.activity_date
)
SELECT
    p.activity_date,
    CASE WHEN g.has_new_user_column = 1 THEN g.new_users END AS new_users,
    p.first_seen_users,
    p.returning_users
FROM people AS p
LEFT JOIN flags AS g ON g.activity_date = p.activity_date
