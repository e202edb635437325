-- Dashboard: each active user's day under each of their Identity Center groups (teams), from the
-- name map (user_groups). A user in two groups appears under both teams, so team totals add up to
-- more than the whole; a mapped user in no group is '(no group)'; a user missing from the map is
-- '(unknown)'. Active = seen in either report (as active_users); credits and messages are the
-- credit report's (0 on a day seen only in the legacy report). Visuals count people over a range
-- with DISTINCT_COUNT(userid) here.
CREATE OR REPLACE VIEW ${database}.team_user_daily AS
WITH usage AS (
    -- The cost model's days, so overage is read as everywhere else (plans.overage_reading); summed over regions
    -- (user_credit_daily has a row per region), so a user in two regions is one row per team and day.
    SELECT
        activity_date,
        userid,
        sum(credits_used) AS credits_used,
        sum(overage_credits_used) AS overage_credits_used,
        TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages
    FROM ${database}.user_credit_daily
    GROUP BY activity_date, userid
)
SELECT
    d.activity_date,
    COALESCE(g.team, '(unknown)') AS team,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    COALESCE(u.credits_used, 0) AS credits_used,
    COALESCE(u.overage_credits_used, 0) AS overage_credits_used,
    COALESCE(u.total_messages, 0) AS total_messages
FROM ${database}.user_days AS d
LEFT JOIN usage AS u ON u.activity_date = d.activity_date AND u.userid = d.userid
LEFT JOIN ${database}.user_groups AS g ON g.userid = d.userid
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
