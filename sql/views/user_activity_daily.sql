-- Contract: one row per (activity_date, userid, client_type) from the newest export.
-- new_user, user_email and usage_limit are NULL where the file had no such column.
CREATE OR REPLACE VIEW ${database}.user_activity_daily AS
SELECT
    activity_date,
    userid,
    client_type,
    subscription_tier,
    chat_conversations,
    credits_used,
    overage_cap,
    overage_credits_used,
    overage_enabled,
    total_messages,
    new_user,
    user_email,
    usage_limit
FROM ${database}.user_report_latest
