-- Internal: the user_report rows the views count: one per (region, date, user, client), from the newest
-- export (report_lines decides; a re-sent export repeats rows, every part of one export shares its stamp).
-- The same user, day and client in two regions are two rows: two profiles, two subscriptions.
CREATE OR REPLACE VIEW ${database}.user_report_latest AS
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
    usage_limit,
    region,
    header,
    fields,
    source_path,
    export_stamp
FROM ${database}.user_report_lines
WHERE status = 'used'
