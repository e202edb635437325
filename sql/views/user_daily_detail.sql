-- Dashboard: the credit report per (day, user, region) from user_credit_daily (summed over clients), with the
-- display name; a user with profiles in two regions has a row for each (two seats), which per-user visuals sum.
-- The tier is the highest plan seen that day in that region (a user on two clients pays the higher tier once);
-- consumption_credits = plan credits + overage credits, what top-user rankings sort by.
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
    d.total_messages
FROM ${database}.user_credit_daily AS d
LEFT JOIN ${database}.user_names AS n ON n.userid = d.userid
