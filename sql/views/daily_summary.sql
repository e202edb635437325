-- Dashboard: one row per day with any activity. active_users counts users seen in either report; the credit
-- figures come from user_day_credits (the cost model: overage read per plans.overage_reading):
-- consumption_credits = credits_used + overage_credits_used, overage_cost = overage credits x the overage price.
CREATE OR REPLACE VIEW ${database}.daily_summary AS
WITH people AS (
    SELECT activity_date, count(DISTINCT userid) AS active_users
    FROM ${database}.user_days
    GROUP BY activity_date
),
credits AS (
    SELECT
        activity_date,
        count(DISTINCT userid) AS credit_report_users,
        sum(credits_used) AS credits_used,
        sum(overage_credits_used) AS overage_credits_used,
        sum(consumption_credits) AS consumption_credits,
        TRY_CAST(sum(total_messages) AS BIGINT) AS total_messages,
        TRY_CAST(sum(chat_conversations) AS BIGINT) AS chat_conversations
    FROM ${database}.user_day_credits
    GROUP BY activity_date
),
behavior AS (
    SELECT
        activity_date,
        TRY_CAST(sum(ai_code_lines) AS BIGINT) AS ai_code_lines,
        TRY_CAST(sum(inline_suggestions) AS BIGINT) AS inline_suggestions,
        TRY_CAST(sum(inline_acceptances) AS BIGINT) AS inline_acceptances
    FROM ${database}.user_behavior_detail
    GROUP BY activity_date
),
price AS (
    SELECT max(overage_price_per_credit) AS overage_price_per_credit
    FROM ${database}.plan_tiers
)
SELECT
    p.activity_date,
    p.active_users,
    COALESCE(c.credit_report_users, 0) AS credit_report_users,
    COALESCE(c.credits_used, 0) AS credits_used,
    COALESCE(c.overage_credits_used, 0) AS overage_credits_used,
    COALESCE(c.consumption_credits, 0) AS consumption_credits,
    COALESCE(c.overage_credits_used, 0) * r.overage_price_per_credit AS overage_cost,
    COALESCE(c.total_messages, 0) AS total_messages,
    COALESCE(c.chat_conversations, 0) AS chat_conversations,
    COALESCE(b.ai_code_lines, 0) AS ai_code_lines,
    COALESCE(b.inline_suggestions, 0) AS inline_suggestions,
    COALESCE(b.inline_acceptances, 0) AS inline_acceptances
FROM people AS p
CROSS JOIN price AS r
LEFT JOIN credits AS c ON c.activity_date = p.activity_date
LEFT JOIN behavior AS b ON b.activity_date = p.activity_date
