-- Dashboard: legacy metric families per day. users = users with any event or line in the family;
-- events and lines per family are listed in sql/README.md. One scan of user_behavior_daily,
-- fanned out to the nine families.
CREATE OR REPLACE VIEW ${database}.feature_adoption_daily AS
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
    activity_date,
    feature,
    count(DISTINCT CASE WHEN events > 0 OR lines > 0 THEN userid END) AS users,
    TRY_CAST(sum(events) AS BIGINT) AS events,
    TRY_CAST(sum(lines) AS BIGINT) AS lines
FROM families
GROUP BY activity_date, feature
