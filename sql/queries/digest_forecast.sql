-- Weekly digest: the latest month's users projected to use their whole allowance by month end (the rows of
-- credit_forecast_watchlist, at each user's own run rate to the data's last day), their projected overage cost, and
-- the overage cost Kiro reported so far this month (monthly_user_credits: reported overage credits x price, the
-- dashboard's figure). Counts and money only: no user id or name leaves Athena. users_still_under = those not yet
-- over (act now).
WITH latest AS (
    SELECT max(month) AS month
    FROM monthly_credit_forecast
),
watched AS (
    SELECT
        l.month,
        -- People, not seats: a user with profiles in two regions has a forecast row for each.
        count(DISTINCT w.userid) AS users_projected_over,
        count(DISTINCT w.at_risk_userid) AS users_still_under,
        COALESCE(sum(w.projected_overage_cost), 0) AS projected_overage_cost
    FROM latest AS l
    LEFT JOIN credit_forecast_watchlist AS w ON w.month = l.month
    GROUP BY l.month
),
billed AS (
    SELECT COALESCE(sum(m.overage_cost), 0) AS overage_cost_to_date
    FROM latest AS l
    LEFT JOIN monthly_user_credits AS m ON m.month = l.month
)
SELECT
    w.month,
    w.users_projected_over,
    w.users_still_under,
    w.projected_overage_cost,
    b.overage_cost_to_date
FROM watched AS w
CROSS JOIN billed AS b
