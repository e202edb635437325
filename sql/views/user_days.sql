-- Internal: each (day, user) with any activity in either report; the base of DAU/WAU/MAU,
-- new vs returning users and active users per day.
CREATE OR REPLACE VIEW ${database}.user_days AS
SELECT activity_date, userid FROM ${database}.user_activity_daily
UNION
SELECT activity_date, userid FROM ${database}.user_behavior_daily
