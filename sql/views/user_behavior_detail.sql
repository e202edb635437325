-- Dashboard: headline legacy metrics per (day, user) with the display name.
-- ai_code_lines and code_generation_lines are defined in sql/README.md. The legacy report names no tier:
-- subscription_tier is the user's tier that day in the credit report (user_day_tiers), 'UNKNOWN' on a day it
-- lacks the user, so the Tier control filters this view too; team is the user's groups (user_teams).
CREATE OR REPLACE VIEW ${database}.user_behavior_detail AS
SELECT
    b.activity_date,
    b.userid,
    COALESCE(n.username, b.userid) AS username,
    COALESCE(k.subscription_tier, 'UNKNOWN') AS subscription_tier,
    COALESCE(t.team, '(unknown)') AS team,
    b.chat_aicodelines + b.inline_aicodelines + b.inlinechat_acceptedlineadditions
        + b.codefix_acceptedlines + b.dev_acceptedlines + b.docgeneration_acceptedlineadditions
        + b.testgeneration_acceptedlines AS ai_code_lines,
    b.chat_messagessent AS chat_messages_sent,
    b.chat_messagesinteracted AS chat_messages_interacted,
    b.inline_suggestionscount AS inline_suggestions,
    b.inline_acceptancecount AS inline_acceptances,
    b.dev_generatedlines + b.codefix_generatedlines + b.testgeneration_generatedlines
        + b.transformation_linesgenerated AS code_generation_lines
FROM ${database}.user_behavior_daily AS b
LEFT JOIN ${database}.user_names AS n ON n.userid = b.userid
LEFT JOIN ${database}.user_day_tiers AS k ON k.activity_date = b.activity_date AND k.userid = b.userid
LEFT JOIN ${database}.user_teams AS t ON t.userid = b.userid
