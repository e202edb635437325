-- Dashboard: legacy metric families per (day, user, feature), only where the user used the feature
-- (any event or line). Counting distinct userid over a date range gives the people who used a
-- feature in that range; feature_adoption_daily.users is distinct per day, so summing it counts
-- user-days. events and lines per family come from feature_family_daily.
CREATE OR REPLACE VIEW ${database}.feature_usage_daily AS
SELECT
    u.activity_date,
    u.userid,
    COALESCE(n.username, u.userid) AS username,
    u.feature,
    TRY_CAST(u.events AS BIGINT) AS events,
    TRY_CAST(u.lines AS BIGINT) AS lines
FROM ${database}.feature_family_daily AS u
LEFT JOIN ${database}.user_names AS n ON n.userid = u.userid
WHERE u.events > 0 OR u.lines > 0
