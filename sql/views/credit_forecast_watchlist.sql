-- Dashboard: the latest month's users projected to use their whole allowance by month end
-- (monthly_credit_forecast rows with projected_credits >= monthly_credits). at_risk tells the ones
-- still under the allowance (act now) from those already over it. A view, not a dashboard filter,
-- so both renderers show the same rows.
CREATE OR REPLACE VIEW ${database}.credit_forecast_watchlist AS
SELECT f.*
FROM ${database}.monthly_credit_forecast AS f
WHERE f.month = (SELECT max(month) FROM ${database}.monthly_credit_forecast)
  AND f.projected_credits >= f.monthly_credits
