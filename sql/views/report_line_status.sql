-- Internal: every line of report_line_facts with its status: 'header', 'rejected' (with reject_reason), or, for
-- a valid line, 'used' (the newest export of its key) or 'superseded' (the same key in a newer export, or a later
-- path of the same stamp). The key is (family, region, activity_date, userid, client_type): the same user, day and
-- client in two regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
-- region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path. Only valid
-- lines compete: a re-sent line that is rejected leaves the older readable one in use. Decided here, over every
-- loaded day, and not when a day is loaded: a re-sent export of an old day changes which line is used.
CREATE OR REPLACE VIEW ${database}.report_line_status AS
SELECT
    family,
    source_rank,
    source_day,
    source_path,
    region,
    export_stamp,
    reject_reason,
    header_text,
    header_columns,
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
    usage_limit,
    chat_aicodelines,
    chat_messagesinteracted,
    chat_messagessent,
    codefix_acceptanceeventcount,
    codefix_acceptedlines,
    codefix_generatedlines,
    codefix_generationeventcount,
    codereview_failedeventcount,
    codereview_findingscount,
    codereview_succeededeventcount,
    dev_acceptanceeventcount,
    dev_acceptedlines,
    dev_generatedlines,
    dev_generationeventcount,
    docgeneration_acceptedfileupdates,
    docgeneration_acceptedfilescreations,
    docgeneration_acceptedlineadditions,
    docgeneration_acceptedlineupdates,
    docgeneration_eventcount,
    docgeneration_rejectedfilecreations,
    docgeneration_rejectedfileupdates,
    docgeneration_rejectedlineadditions,
    docgeneration_rejectedlineupdates,
    inlinechat_acceptanceeventcount,
    inlinechat_acceptedlineadditions,
    inlinechat_acceptedlinedeletions,
    inlinechat_dismissaleventcount,
    inlinechat_dismissedlineadditions,
    inlinechat_dismissedlinedeletions,
    inlinechat_rejectedlineadditions,
    inlinechat_rejectedlinedeletions,
    inlinechat_rejectioneventcount,
    inlinechat_totaleventcount,
    inline_aicodelines,
    inline_acceptancecount,
    inline_suggestionscount,
    testgeneration_acceptedlines,
    testgeneration_acceptedtests,
    testgeneration_eventcount,
    testgeneration_generatedlines,
    testgeneration_generatedtests,
    transformation_eventcount,
    transformation_linesgenerated,
    transformation_linesingested,
    CASE
        WHEN line_status <> 'valid' THEN line_status
        WHEN row_number() OVER (
            PARTITION BY line_status, family, region, activity_date, userid, client_type
            ORDER BY export_stamp DESC, source_rank ASC, source_path DESC
        ) = 1 THEN 'used'
        ELSE 'superseded'
    END AS status
FROM ${database}.report_line_facts
