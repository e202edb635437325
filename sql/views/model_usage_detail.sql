-- Dashboard: model_usage_daily with the display name.
CREATE OR REPLACE VIEW ${database}.model_usage_detail AS
SELECT
    m.activity_date,
    m.userid,
    COALESCE(n.username, m.userid) AS username,
    m.client_type,
    m.model,
    m.messages
FROM ${database}.model_usage_daily AS m
LEFT JOIN ${database}.user_names AS n ON n.userid = m.userid
