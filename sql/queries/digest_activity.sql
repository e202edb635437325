-- Weekly digest: distinct active users (either report) and consumption (plan + overage credits) and overage cost in
-- the 7 days to the data's last day ("this week") and in the 7 days before ("last week"), from the same views as the
-- dashboard's KPIs (user_days, daily_summary). "Today" is the data's last day (max activity_date in either report),
-- never the wall clock, so the same files always give the same digest. first_day lets the digest compare only when
-- the reports cover the whole week before. Runs in the session database; counts and sums only, no user id leaves
-- Athena.
WITH data_span AS (
    SELECT min(activity_date) AS first_day, max(activity_date) AS last_day
    FROM user_days
),
people AS (
    SELECT
        count(DISTINCT CASE WHEN date_diff('day', u.activity_date, s.last_day) BETWEEN 0 AND 6 THEN u.userid END)
            AS active_users_this_week,
        count(DISTINCT CASE WHEN date_diff('day', u.activity_date, s.last_day) BETWEEN 7 AND 13 THEN u.userid END)
            AS active_users_last_week
    FROM user_days AS u
    CROSS JOIN data_span AS s
),
credits AS (
    SELECT
        COALESCE(sum(CASE WHEN date_diff('day', d.activity_date, s.last_day) BETWEEN 0 AND 6
            THEN d.consumption_credits END), 0) AS consumption_this_week,
        COALESCE(sum(CASE WHEN date_diff('day', d.activity_date, s.last_day) BETWEEN 7 AND 13
            THEN d.consumption_credits END), 0) AS consumption_last_week,
        COALESCE(sum(CASE WHEN date_diff('day', d.activity_date, s.last_day) BETWEEN 0 AND 6
            THEN d.overage_cost END), 0) AS overage_cost_this_week
    FROM daily_summary AS d
    CROSS JOIN data_span AS s
)
SELECT
    s.first_day,
    s.last_day,
    p.active_users_this_week,
    p.active_users_last_week,
    c.consumption_this_week,
    c.consumption_last_week,
    c.overage_cost_this_week
FROM data_span AS s
CROSS JOIN people AS p
CROSS JOIN credits AS c
