-- Weekly digest: the latest month's users projected to use their whole allowance by month end (the rows of
-- credit_forecast_watchlist, at each user's own run rate to the data's last day) and their projected overage cost.
-- Counts and money only: no user id or name leaves Athena. users_still_under = those not yet over (act now).
WITH latest AS (
    SELECT max(month) AS month
    FROM monthly_credit_forecast
)
SELECT
    l.month,
    count(w.userid) AS users_projected_over,
    COALESCE(sum(w.at_risk_users), 0) AS users_still_under,
    COALESCE(sum(w.projected_overage_cost), 0) AS projected_overage_cost
FROM latest AS l
LEFT JOIN credit_forecast_watchlist AS w ON w.month = l.month
GROUP BY l.month
