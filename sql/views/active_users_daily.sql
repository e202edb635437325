-- Dashboard: distinct users active on the day (dau), in the trailing 7 days (wau) and trailing
-- 30 days (mau), for every day from the first activity to the last (quiet days included).
-- Each active (day, user) is spread over the 30 days whose window contains it.
CREATE OR REPLACE VIEW ${database}.active_users_daily AS
WITH spread AS (
    SELECT
        TRY_CAST(date_add('day', s.k, u.activity_date) AS DATE) AS activity_date,
        u.userid,
        s.k
    FROM ${database}.user_days AS u
    CROSS JOIN UNNEST(sequence(0, 29)) AS s (k)
),
last_day AS (
    SELECT max(activity_date) AS activity_date FROM ${database}.user_days
)
SELECT
    s.activity_date,
    count(DISTINCT CASE WHEN s.k = 0 THEN s.userid END) AS dau,
    count(DISTINCT CASE WHEN s.k < 7 THEN s.userid END) AS wau,
    count(DISTINCT s.userid) AS mau
FROM spread AS s
JOIN last_day AS l ON s.activity_date <= l.activity_date
GROUP BY s.activity_date
