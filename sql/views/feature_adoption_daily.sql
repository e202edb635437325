-- Dashboard: legacy metric families per day. users = users with any event or line in the family that
-- day (distinct per day: summing it over a range counts user-days; feature_usage_daily counts people).
CREATE OR REPLACE VIEW ${database}.feature_adoption_daily AS
SELECT
    activity_date,
    feature,
    count(DISTINCT CASE WHEN events > 0 OR lines > 0 THEN userid END) AS users,
    TRY_CAST(sum(events) AS BIGINT) AS events,
    TRY_CAST(sum(lines) AS BIGINT) AS lines
FROM ${database}.feature_family_daily
GROUP BY activity_date, feature
