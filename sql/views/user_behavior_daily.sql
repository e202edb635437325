-- Contract: the legacy report, one row per (activity_date, userid), 44 metrics bound by header name.
-- Both sources are merged; per (date, user) the newest export stamp wins and a tie goes to
-- KiroLogs. Date is MM-DD-YYYY here (ISO accepted too); an empty metric (Q Developer era) is 0.
CREATE OR REPLACE VIEW ${database}.user_behavior_daily AS
WITH keyed AS (
    SELECT
        source_rank,
        source_path,
        export_stamp,
        header,
        fields,
        trim(element_at(fields, NULLIF(array_position(header, 'date'), 0))) AS c_date,
        regexp_replace(
            trim(element_at(fields, NULLIF(array_position(header, 'userid'), 0))), '^d-[0-9A-Za-z]+[.]', ''
        ) AS userid
    FROM ${database}.legacy_report_lines
),
dated AS (
    SELECT
        *,
        COALESCE(
            TRY_CAST(
                split_part(c_date, '-', 3) || '-' || lpad(split_part(c_date, '-', 1), 2, '0')
                || '-' || lpad(split_part(c_date, '-', 2), 2, '0') AS DATE
            ),
            TRY_CAST(c_date AS DATE)
        ) AS activity_date
    FROM keyed
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY activity_date, userid
            ORDER BY export_stamp DESC, source_rank ASC, source_path DESC
        ) AS export_rank
    FROM dated
    WHERE activity_date IS NOT NULL
      AND userid IS NOT NULL
      AND userid <> ''
)
SELECT
    activity_date,
    userid,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'chat_aicodelines'), 0))) AS BIGINT), 0) AS chat_aicodelines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'chat_messagesinteracted'), 0))) AS BIGINT), 0) AS chat_messagesinteracted,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'chat_messagessent'), 0))) AS BIGINT), 0) AS chat_messagessent,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codefix_acceptanceeventcount'), 0))) AS BIGINT), 0) AS codefix_acceptanceeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codefix_acceptedlines'), 0))) AS BIGINT), 0) AS codefix_acceptedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codefix_generatedlines'), 0))) AS BIGINT), 0) AS codefix_generatedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codefix_generationeventcount'), 0))) AS BIGINT), 0) AS codefix_generationeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codereview_failedeventcount'), 0))) AS BIGINT), 0) AS codereview_failedeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codereview_findingscount'), 0))) AS BIGINT), 0) AS codereview_findingscount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'codereview_succeededeventcount'), 0))) AS BIGINT), 0) AS codereview_succeededeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'dev_acceptanceeventcount'), 0))) AS BIGINT), 0) AS dev_acceptanceeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'dev_acceptedlines'), 0))) AS BIGINT), 0) AS dev_acceptedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'dev_generatedlines'), 0))) AS BIGINT), 0) AS dev_generatedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'dev_generationeventcount'), 0))) AS BIGINT), 0) AS dev_generationeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_acceptedfileupdates'), 0))) AS BIGINT), 0) AS docgeneration_acceptedfileupdates,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_acceptedfilescreations'), 0))) AS BIGINT), 0) AS docgeneration_acceptedfilescreations,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_acceptedlineadditions'), 0))) AS BIGINT), 0) AS docgeneration_acceptedlineadditions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_acceptedlineupdates'), 0))) AS BIGINT), 0) AS docgeneration_acceptedlineupdates,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_eventcount'), 0))) AS BIGINT), 0) AS docgeneration_eventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_rejectedfilecreations'), 0))) AS BIGINT), 0) AS docgeneration_rejectedfilecreations,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_rejectedfileupdates'), 0))) AS BIGINT), 0) AS docgeneration_rejectedfileupdates,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_rejectedlineadditions'), 0))) AS BIGINT), 0) AS docgeneration_rejectedlineadditions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'docgeneration_rejectedlineupdates'), 0))) AS BIGINT), 0) AS docgeneration_rejectedlineupdates,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_acceptanceeventcount'), 0))) AS BIGINT), 0) AS inlinechat_acceptanceeventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_acceptedlineadditions'), 0))) AS BIGINT), 0) AS inlinechat_acceptedlineadditions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_acceptedlinedeletions'), 0))) AS BIGINT), 0) AS inlinechat_acceptedlinedeletions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_dismissaleventcount'), 0))) AS BIGINT), 0) AS inlinechat_dismissaleventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_dismissedlineadditions'), 0))) AS BIGINT), 0) AS inlinechat_dismissedlineadditions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_dismissedlinedeletions'), 0))) AS BIGINT), 0) AS inlinechat_dismissedlinedeletions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_rejectedlineadditions'), 0))) AS BIGINT), 0) AS inlinechat_rejectedlineadditions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_rejectedlinedeletions'), 0))) AS BIGINT), 0) AS inlinechat_rejectedlinedeletions,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_rejectioneventcount'), 0))) AS BIGINT), 0) AS inlinechat_rejectioneventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inlinechat_totaleventcount'), 0))) AS BIGINT), 0) AS inlinechat_totaleventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inline_aicodelines'), 0))) AS BIGINT), 0) AS inline_aicodelines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inline_acceptancecount'), 0))) AS BIGINT), 0) AS inline_acceptancecount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'inline_suggestionscount'), 0))) AS BIGINT), 0) AS inline_suggestionscount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'testgeneration_acceptedlines'), 0))) AS BIGINT), 0) AS testgeneration_acceptedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'testgeneration_acceptedtests'), 0))) AS BIGINT), 0) AS testgeneration_acceptedtests,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'testgeneration_eventcount'), 0))) AS BIGINT), 0) AS testgeneration_eventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'testgeneration_generatedlines'), 0))) AS BIGINT), 0) AS testgeneration_generatedlines,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'testgeneration_generatedtests'), 0))) AS BIGINT), 0) AS testgeneration_generatedtests,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'transformation_eventcount'), 0))) AS BIGINT), 0) AS transformation_eventcount,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'transformation_linesgenerated'), 0))) AS BIGINT), 0) AS transformation_linesgenerated,
    COALESCE(TRY_CAST(trim(element_at(fields, NULLIF(array_position(header, 'transformation_linesingested'), 0))) AS BIGINT), 0) AS transformation_linesingested
FROM ranked
WHERE export_rank = 1
