-- Internal: the legacy report fanned out to its nine feature families, one row per (day, user, feature),
-- zeros included. events and lines per family are defined here once (listed in sql/README.md);
-- feature_adoption_daily and feature_usage_daily both read it.
CREATE OR REPLACE VIEW ${database}.feature_family_daily AS
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
