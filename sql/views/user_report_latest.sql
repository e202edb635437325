-- Internal: the user_report rows the views count: one per (region, date, user, client), from the newest
-- export (report_line_status decides; a re-sent export repeats rows, every part of one export shares its stamp).
-- The same user, day and client in two regions are two rows: two profiles, two subscriptions.
CREATE OR REPLACE VIEW ${database}.user_report_latest AS
SELECT
    u.activity_date,
    u.userid,
    u.client_type,
    u.subscription_tier,
    u.chat_conversations,
    u.credits_used,
    u.overage_cap,
    u.overage_credits_used,
    u.overage_enabled,
    u.total_messages,
    u.new_user,
    u.user_email,
    u.usage_limit,
    u.region,
    -- The <model>_messages cells, parsed when the line was loaded: model_names[i] has model_messages[i].
    u.model_names,
    u.model_messages,
    u.source_path,
    u.export_stamp
FROM ${database}.user_report_lines AS u
WHERE u.status = 'used'
