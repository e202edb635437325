-- Dashboard: the credit report per (day, user, region) from user_credit_daily (summed over clients), with the
-- display name; a user with profiles in two regions has a row for each (two seats), which per-user visuals sum.
-- The tier is the highest plan seen that day in that region (a user on two clients pays the higher tier once);
-- consumption_credits = plan credits + overage credits, what top-user rankings sort by; overage_cost = overage
-- credits x the overage price, as in daily_summary, so per-user visuals (which the tier and user controls filter)
-- add up to the same day totals. team: the user's groups (user_teams), for the Team control.
CREATE OR REPLACE VIEW ${database}.user_daily_detail AS
SELECT
    d.activity_date,
    d.userid,
    COALESCE(n.username, d.userid) AS username,
    d.region,
    d.subscription_tier,
    d.clients,
    d.chat_conversations,
    d.credits_used,
    d.overage_credits_used,
    d.consumption_credits,
    d.total_messages,
    d.overage_credits_used * r.overage_price_per_credit AS overage_cost,
    COALESCE(t.team, '(unknown)') AS team
FROM ${database}.user_credit_daily AS d
CROSS JOIN (SELECT max(overage_price_per_credit) AS overage_price_per_credit FROM ${database}.plan_tiers) AS r
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
LEFT JOIN ${database}.user_teams AS t ON t.userid = d.userid
