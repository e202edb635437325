-- Dashboard: model_usage_daily with the display name, the day's tier (user_day_tiers, 'UNKNOWN' off the credit
-- report) and the user's groups (user_teams), so the Tier and Team controls filter it.
CREATE OR REPLACE VIEW ${database}.model_usage_detail AS
SELECT
    m.activity_date,
    m.userid,
    COALESCE(n.username, m.userid) AS username,
    m.client_type,
    m.model,
    m.messages,
    COALESCE(k.subscription_tier, 'UNKNOWN') AS subscription_tier,
    COALESCE(t.team, '(unknown)') AS team
FROM ${database}.model_usage_daily AS m
LEFT JOIN ${database}.user_names AS n ON n.userid = m.userid
LEFT JOIN ${database}.user_day_tiers AS k ON k.activity_date = m.activity_date AND k.userid = m.userid
LEFT JOIN ${database}.user_teams AS t ON t.userid = m.userid
