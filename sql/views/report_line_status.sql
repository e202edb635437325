-- Internal: every line of report_line_facts with its status: 'header', 'rejected' (with reject_reason), or, for
-- a valid line, 'used' (the newest export of its key) or 'superseded' (the same key in a newer export, or a later
-- path of the same stamp). The key is (family, region, activity_date, userid, client_type): the same user, day and
-- client in two regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
-- region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path. Only valid
-- lines compete: a re-sent line that is rejected leaves the older readable one in use. Decided here, over every
-- loaded day, and not when a day is loaded: a re-sent export of an old day changes which line is used.
-- Only a contested key (two or more valid lines: a re-sent export, a split part repeated) needs ranking: the few
-- lines of such keys are ranked, every other line is used or keeps its status without a sort. Ranking every line
-- sorted the whole, wide table (issue 12: the largest single cost of the local build; Athena sorts it too).
CREATE OR REPLACE VIEW ${database}.report_line_status AS
WITH contested AS (
    -- Valid lines have every key column set (report_lines: a date, a user id, a region and a client), so the
    -- joins on it below find each contested line.
    SELECT family, region, activity_date, userid, client_type
    FROM ${database}.report_line_facts
    WHERE line_status = 'valid'
    GROUP BY family, region, activity_date, userid, client_type
    HAVING count(*) > 1
)
SELECT
    f.family,
    f.source_rank,
    f.source_day,
    f.source_path,
    f.region,
    f.export_stamp,
    f.reject_reason,
    f.header_text,
    f.header_columns,
    f.model_names,
    f.model_messages,
    f.activity_date,
    f.userid,
    f.client_type,
    f.subscription_tier,
    f.chat_conversations,
    f.credits_used,
    f.overage_cap,
    f.overage_credits_used,
    f.overage_enabled,
    f.total_messages,
    f.new_user,
    f.user_email,
    f.usage_limit,
    f.chat_aicodelines,
    f.chat_messagesinteracted,
    f.chat_messagessent,
    f.codefix_acceptanceeventcount,
    f.codefix_acceptedlines,
    f.codefix_generatedlines,
    f.codefix_generationeventcount,
    f.codereview_failedeventcount,
    f.codereview_findingscount,
    f.codereview_succeededeventcount,
    f.dev_acceptanceeventcount,
    f.dev_acceptedlines,
    f.dev_generatedlines,
    f.dev_generationeventcount,
    f.docgeneration_acceptedfileupdates,
    f.docgeneration_acceptedfilescreations,
    f.docgeneration_acceptedlineadditions,
    f.docgeneration_acceptedlineupdates,
    f.docgeneration_eventcount,
    f.docgeneration_rejectedfilecreations,
    f.docgeneration_rejectedfileupdates,
    f.docgeneration_rejectedlineadditions,
    f.docgeneration_rejectedlineupdates,
    f.inlinechat_acceptanceeventcount,
    f.inlinechat_acceptedlineadditions,
    f.inlinechat_acceptedlinedeletions,
    f.inlinechat_dismissaleventcount,
    f.inlinechat_dismissedlineadditions,
    f.inlinechat_dismissedlinedeletions,
    f.inlinechat_rejectedlineadditions,
    f.inlinechat_rejectedlinedeletions,
    f.inlinechat_rejectioneventcount,
    f.inlinechat_totaleventcount,
    f.inline_aicodelines,
    f.inline_acceptancecount,
    f.inline_suggestionscount,
    f.testgeneration_acceptedlines,
    f.testgeneration_acceptedtests,
    f.testgeneration_eventcount,
    f.testgeneration_generatedlines,
    f.testgeneration_generatedtests,
    f.transformation_eventcount,
    f.transformation_linesgenerated,
    f.transformation_linesingested,
    CASE WHEN f.line_status = 'valid' THEN 'used' ELSE f.line_status END AS status
FROM ${database}.report_line_facts AS f
LEFT JOIN contested AS c ON f.line_status = 'valid' AND c.family = f.family AND c.region = f.region
    AND c.activity_date = f.activity_date AND c.userid = f.userid AND c.client_type = f.client_type
WHERE c.userid IS NULL
UNION ALL
SELECT
    f.family,
    f.source_rank,
    f.source_day,
    f.source_path,
    f.region,
    f.export_stamp,
    f.reject_reason,
    f.header_text,
    f.header_columns,
    f.model_names,
    f.model_messages,
    f.activity_date,
    f.userid,
    f.client_type,
    f.subscription_tier,
    f.chat_conversations,
    f.credits_used,
    f.overage_cap,
    f.overage_credits_used,
    f.overage_enabled,
    f.total_messages,
    f.new_user,
    f.user_email,
    f.usage_limit,
    f.chat_aicodelines,
    f.chat_messagesinteracted,
    f.chat_messagessent,
    f.codefix_acceptanceeventcount,
    f.codefix_acceptedlines,
    f.codefix_generatedlines,
    f.codefix_generationeventcount,
    f.codereview_failedeventcount,
    f.codereview_findingscount,
    f.codereview_succeededeventcount,
    f.dev_acceptanceeventcount,
    f.dev_acceptedlines,
    f.dev_generatedlines,
    f.dev_generationeventcount,
    f.docgeneration_acceptedfileupdates,
    f.docgeneration_acceptedfilescreations,
    f.docgeneration_acceptedlineadditions,
    f.docgeneration_acceptedlineupdates,
    f.docgeneration_eventcount,
    f.docgeneration_rejectedfilecreations,
    f.docgeneration_rejectedfileupdates,
    f.docgeneration_rejectedlineadditions,
    f.docgeneration_rejectedlineupdates,
    f.inlinechat_acceptanceeventcount,
    f.inlinechat_acceptedlineadditions,
    f.inlinechat_acceptedlinedeletions,
    f.inlinechat_dismissaleventcount,
    f.inlinechat_dismissedlineadditions,
    f.inlinechat_dismissedlinedeletions,
    f.inlinechat_rejectedlineadditions,
    f.inlinechat_rejectedlinedeletions,
    f.inlinechat_rejectioneventcount,
    f.inlinechat_totaleventcount,
    f.inline_aicodelines,
    f.inline_acceptancecount,
    f.inline_suggestionscount,
    f.testgeneration_acceptedlines,
    f.testgeneration_acceptedtests,
    f.testgeneration_eventcount,
    f.testgeneration_generatedlines,
    f.testgeneration_generatedtests,
    f.transformation_eventcount,
    f.transformation_linesgenerated,
    f.transformation_linesingested,
    CASE
        WHEN row_number() OVER (
            PARTITION BY f.family, f.region, f.activity_date, f.userid, f.client_type
            ORDER BY f.export_stamp DESC, f.source_rank ASC, f.source_path DESC
        ) = 1 THEN 'used'
        ELSE 'superseded'
    END AS status
FROM ${database}.report_line_facts AS f
JOIN contested AS c ON c.family = f.family AND c.region = f.region
    AND c.activity_date = f.activity_date AND c.userid = f.userid AND c.client_type = f.client_type
WHERE f.line_status = 'valid'
