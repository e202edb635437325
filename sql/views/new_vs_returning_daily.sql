-- Dashboard: per day, users active for the first time in the data (new) and the others
-- (returning). First-seen is used rather than New_User, which some files lack.
CREATE OR REPLACE VIEW ${database}.new_vs_returning_daily AS
WITH firsts AS (
    SELECT userid, min(activity_date) AS first_date
    FROM ${database}.user_days
    GROUP BY userid
)
SELECT
    u.activity_date,
    count(DISTINCT CASE WHEN u.activity_date = f.first_date THEN u.userid END) AS new_users,
    count(DISTINCT CASE WHEN u.activity_date > f.first_date THEN u.userid END) AS returning_users
FROM ${database}.user_days AS u
JOIN firsts AS f ON f.userid = u.userid
GROUP BY u.activity_date
