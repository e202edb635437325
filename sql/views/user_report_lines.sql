-- Internal: every data line of every user_report file, classified and typed (rules in report_lines.sql):
-- status 'used', 'superseded' or 'rejected' (with reject_reason; report_line_status decides). Header lines are
-- left out (each file's header is on its header line in report_line_facts).
CREATE OR REPLACE VIEW ${database}.user_report_lines AS
SELECT
    source_path,
    region,
    export_stamp,
    status,
    reject_reason,
    model_names,
    model_messages,
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
FROM ${database}.report_line_status
WHERE family = 'user_report'
  AND status <> 'header'
