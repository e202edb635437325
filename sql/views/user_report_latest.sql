-- Internal: user_report rows typed by header name, keeping only the newest export per
-- (date, user, client). A re-sent export repeats rows; every part of one export shares its stamp.
CREATE OR REPLACE VIEW ${database}.user_report_latest AS
WITH cells AS (
    SELECT
        source_path,
        export_stamp,
        header,
        fields,
        trim(element_at(fields, NULLIF(array_position(header, 'date'), 0))) AS c_date,
        trim(element_at(fields, NULLIF(array_position(header, 'userid'), 0))) AS c_userid,
        trim(element_at(fields, NULLIF(array_position(header, 'client_type'), 0))) AS c_client_type,
        trim(element_at(fields, NULLIF(array_position(header, 'chat_conversations'), 0))) AS c_chat_conversations,
        trim(element_at(fields, NULLIF(array_position(header, 'credits_used'), 0))) AS c_credits_used,
        trim(element_at(fields, NULLIF(array_position(header, 'overage_cap'), 0))) AS c_overage_cap,
        trim(element_at(fields, NULLIF(array_position(header, 'overage_credits_used'), 0))) AS c_overage_credits_used,
        trim(element_at(fields, NULLIF(array_position(header, 'overage_enabled'), 0))) AS c_overage_enabled,
        trim(element_at(fields, NULLIF(array_position(header, 'subscription_tier'), 0))) AS c_subscription_tier,
        trim(element_at(fields, NULLIF(array_position(header, 'total_messages'), 0))) AS c_total_messages,
        trim(element_at(fields, NULLIF(array_position(header, 'new_user'), 0))) AS c_new_user,
        trim(element_at(fields, NULLIF(array_position(header, 'user_email'), 0))) AS c_user_email,
        trim(element_at(fields, NULLIF(array_position(header, 'usage_limit'), 0))) AS c_usage_limit,
        contains(header, 'new_user') AS has_new_user,
        contains(header, 'user_email') AS has_user_email,
        contains(header, 'usage_limit') AS has_usage_limit
    FROM ${database}.user_report_lines
),
typed AS (
    SELECT
        source_path,
        export_stamp,
        header,
        fields,
        TRY_CAST(c_date AS DATE) AS activity_date,
        -- Identity Center ids arrive bare, quoted (quotes are gone already) or as <store id>.<uuid>.
        regexp_replace(c_userid, '^d-[0-9A-Za-z]+[.]', '') AS userid,
        COALESCE(NULLIF(upper(c_client_type), ''), 'UNKNOWN') AS client_type,
        -- Kiro and its docs spell tiers differently (PRO_PLUS, ProPlus, Pro Plus, ...).
        CASE replace(replace(upper(c_subscription_tier), ' ', ''), '-', '')
            WHEN 'PRO' THEN 'PRO'
            WHEN 'PROPLUS' THEN 'PRO_PLUS'
            WHEN 'PRO_PLUS' THEN 'PRO_PLUS'
            WHEN 'PROMAX' THEN 'PRO_MAX'
            WHEN 'PRO_MAX' THEN 'PRO_MAX'
            WHEN 'POWER' THEN 'POWER'
            ELSE NULLIF(upper(c_subscription_tier), '')
        END AS subscription_tier,
        COALESCE(TRY_CAST(c_chat_conversations AS BIGINT), 0) AS chat_conversations,
        COALESCE(TRY_CAST(c_credits_used AS DOUBLE), 0) AS credits_used,
        COALESCE(TRY_CAST(c_overage_cap AS DOUBLE), 0) AS overage_cap,
        COALESCE(TRY_CAST(c_overage_credits_used AS DOUBLE), 0) AS overage_credits_used,
        COALESCE(lower(c_overage_enabled) = 'true', false) AS overage_enabled,
        COALESCE(TRY_CAST(c_total_messages AS BIGINT), 0) AS total_messages,
        CASE WHEN has_new_user THEN COALESCE(lower(c_new_user) = 'true', false) END AS new_user,
        CASE WHEN has_user_email THEN NULLIF(c_user_email, '') END AS user_email,
        CASE WHEN has_usage_limit THEN TRY_CAST(c_usage_limit AS DOUBLE) END AS usage_limit
    FROM cells
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY activity_date, userid, client_type
            ORDER BY export_stamp DESC, source_path DESC
        ) AS export_rank
    FROM typed
    WHERE activity_date IS NOT NULL
      AND userid IS NOT NULL
      AND userid <> ''
)
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
    header,
    fields,
    source_path,
    export_stamp
FROM ranked
WHERE export_rank = 1
