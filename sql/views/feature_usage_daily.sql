-- Dashboard: legacy metric families per (day, user, feature), only where the user used the feature
-- (any event or line). Counting distinct userid over a date range gives the people who used a
-- feature in that range; feature_adoption_daily.users is distinct per day, so summing it counts
-- user-days. events and lines per family are listed in sql/README.md (same CASE as
-- feature_adoption_daily; tests check both against the files).
CREATE OR REPLACE VIEW ${database}.feature_usage_daily AS
WITH families AS (
    SELECT
        b.activity_date,
        b.userid,
        f.feature,
        CASE f.feature
            WHEN 'Chat' THEN b.chat_messagessent
            WHEN 'CodeFix' THEN b.codefix_generationeventcount
            WHEN 'CodeReview' THEN b.codereview_succeededeventcount + b.codereview_failedeventcount
            WHEN 'Dev' THEN b.dev_generationeventcount
            WHEN 'DocGeneration' THEN b.docgeneration_eventcount
            WHEN 'InlineChat' THEN b.inlinechat_totaleventcount
            WHEN 'Inline' THEN b.inline_suggestionscount
            WHEN 'TestGeneration' THEN b.testgeneration_eventcount
            WHEN 'Transformation' THEN b.transformation_eventcount
        END AS events,
        CASE f.feature
            WHEN 'Chat' THEN b.chat_aicodelines
            WHEN 'CodeFix' THEN b.codefix_acceptedlines
            WHEN 'CodeReview' THEN 0
            WHEN 'Dev' THEN b.dev_acceptedlines
            WHEN 'DocGeneration' THEN b.docgeneration_acceptedlineadditions + b.docgeneration_acceptedlineupdates
            WHEN 'InlineChat' THEN b.inlinechat_acceptedlineadditions
            WHEN 'Inline' THEN b.inline_aicodelines
            WHEN 'TestGeneration' THEN b.testgeneration_acceptedlines
            WHEN 'Transformation' THEN b.transformation_linesgenerated
        END AS lines
    FROM ${database}.user_behavior_daily AS b
    CROSS JOIN (
        VALUES 'Chat', 'CodeFix', 'CodeReview', 'Dev', 'DocGeneration', 'InlineChat', 'Inline',
            'TestGeneration', 'Transformation'
    ) AS f (feature)
)
SELECT
    u.activity_date,
    u.userid,
    COALESCE(n.username, u.userid) AS username,
    u.feature,
    TRY_CAST(u.events AS BIGINT) AS events,
    TRY_CAST(u.lines AS BIGINT) AS lines
FROM families AS u
LEFT JOIN ${database}.user_names AS n ON n.userid = u.userid
WHERE u.events > 0 OR u.lines > 0
