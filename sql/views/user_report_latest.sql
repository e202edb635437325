-- Internal: the user_report rows the views count: one per (region, date, user, client), from the newest
-- export (report_lines decides; a re-sent export repeats rows, every part of one export shares its stamp).
-- The same user, day and client in two regions are two rows: two profiles, two subscriptions.
CREATE OR REPLACE VIEW ${database}.user_report_latest AS
WITH headers AS (
    -- One header per file (report_lines keeps it on the file's header line; two equal header lines are one).
    SELECT source_path, max(header_text) AS header_text
    FROM ${database}.report_lines
    WHERE family = 'user_report'
      AND status = 'header'
    GROUP BY source_path
)
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
    -- model_usage_daily reads the model columns by header name from these two.
    split(h.header_text, ',') AS header,
    split(u.clean_line, ',') AS fields,
    u.source_path,
    u.export_stamp
FROM ${database}.user_report_lines AS u
JOIN headers AS h ON h.source_path = u.source_path
WHERE u.status = 'used'
