-- Dashboard: each seat's month (user and region, as user_month_usage) projected to its end at the month's own run
-- rate, so admins see who will hit the plan's cap before Kiro warns the user (at 80 %). The projection is the cost
-- model's (user_month_usage):
-- "today" is the data's last day (the latest activity_date), never the wall clock, so the same files always give
-- the same numbers; the month to date is projected at the run rate of its covered days, earlier months are closed
-- (projected = credits so far, days_elapsed = days_in_month).
-- projected_overage_credits: the overage Kiro reported so far + what the projection adds beyond the allowance
-- (for a closed month exactly the reported overage, so its cost equals monthly_user_credits.overage_cost); a user
-- without overage enabled is stopped at the allowance instead: at_risk says so, no overage is projected.
-- at_risk: projected to reach the allowance while still under it (so never true for a closed month);
-- near_cap: projected to reach 80 %.
CREATE OR REPLACE VIEW ${database}.monthly_credit_forecast AS
WITH judged AS (
    SELECT
        u.*,
        CASE WHEN u.month_to_date THEN date_diff('day', u.month, u.data_last_day) + 1 ELSE u.days_in_month END
            AS days_elapsed,
        u.overage_credits_used + CASE WHEN u.overage_enabled
            THEN COALESCE(greatest(u.projected_credits - greatest(u.credits_to_date, u.allowance), 0), 0)
            ELSE 0 END AS projected_overage_credits,
        COALESCE(u.projected_credits >= u.allowance AND u.credits_to_date < u.allowance, false) AS at_risk,
        COALESCE(u.projected_credits >= 0.8 * u.allowance, false) AS near_cap
    FROM ${database}.user_month_usage AS u
)
SELECT
    j.month,
    j.userid,
    COALESCE(n.username, j.userid) AS username,
    j.region,
    j.subscription_tier,
    j.period_status,
    j.credits_to_date,
    j.days_elapsed,
    j.days_in_month,
    j.projected_credits,
    j.allowance AS monthly_credits,
    100 * j.projected_credits / NULLIF(j.allowance, 0) AS projected_utilisation_pct,
    j.projected_overage_credits,
    j.projected_overage_credits * j.overage_price_per_credit AS projected_overage_cost,
    j.at_risk,
    j.near_cap,
    -- 1 for an at-risk user: a KPI sums it into a count, which a BOOLEAN cannot give.
    CASE WHEN j.at_risk THEN 1 ELSE 0 END AS at_risk_users,
    -- The user id of an at-risk seat: a KPI counts it DISTINCT, so a user at risk in two regions is one person.
    CASE WHEN j.at_risk THEN j.userid END AS at_risk_userid
FROM judged AS j
LEFT JOIN ${database}.user_names AS n ON n.userid = j.userid
