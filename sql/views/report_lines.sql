-- Internal: every non-blank line of every report file (user_report and both legacy sources), classified ONCE,
-- here, and typed. Only sql/facts/report_line_facts.load.sql reads this view, for the day folders it loads
-- (partition_day, the raw tables' day passed through), so each line is parsed once into report_line_facts, which
-- every other view reads through report_line_status. Rules (sql/README.md, "How a line is read"):
--   * A line is its file's header when its fields include Date and UserId (trimmed, any case). Names are trimmed
--     and lower-cased, so columns are found by name in any order; quotes and a byte-order mark are dropped first
--     (no field of these reports should hold a comma: one that does is rejected, never read shifted).
--   * line_status: 'header', 'valid' (report_line_status then says 'used', the line a view reads, or
--     'superseded', the same key in a newer export or a later path of the same stamp), or 'rejected' with
--     reject_reason: no header, unknown header layout (two different header lines, or a name twice), missing
--     required column, not UTF-8, truncated line (fewer fields than the header), extra fields (a comma in a
--     field): more fields than the header, bad date, no user id, bad number (not a finite, unsigned number).
--   * The key is (family, region, activity_date, userid, client_type): the same user, day and client in two
--     regions are two real rows (two profiles), both used. Legacy lines of both sources share one key per
--     region and day (client 'ALL'); the newest export stamp wins, then KiroLogs (source_rank 1), then path.
--     Only valid lines compete: a re-sent line that is rejected leaves the older readable one in use.
--   * Numbers are checked by pattern before any cast (DuckDB's casts accept '1.5' as a whole number and
--     '0x10'; Trino's do not), so both engines reject and read the same lines.
--   * from_utf8(to_utf8(...)) turns bytes that are not UTF-8 into U+FFFD in Athena (its text reader does not
--     promise to); the local engine decodes the same way, so such a line is rejected 'not UTF-8' in both.
-- Per file (files, layouts): the header, where each column is, the export stamp (the LAST 12-digit run of the
-- file name: the account id is 12 digits too, and split parts add _part_N after it) and the region (the folder
-- after user_report/ or by_user_analytic/), and the <model>_messages columns (model_positions, model_names): each
-- line reads only those cells, by header name, into model_messages.
-- family is a constant of each branch of raw, so a filter on it prunes the other tables' scans in Athena.
CREATE OR REPLACE VIEW ${database}.report_lines AS
WITH raw AS (
    SELECT 'user_report' AS family, 0 AS source_rank, day AS partition_day, "$path" AS source_path,
        from_utf8(to_utf8(line)) AS text_line
    FROM ${database}.user_report_raw
    UNION ALL
    SELECT 'by_user_analytic' AS family, 1 AS source_rank, day AS partition_day, "$path" AS source_path,
        from_utf8(to_utf8(line)) AS text_line
    FROM ${database}.kiro_by_user_analytic_raw
    UNION ALL
    SELECT 'by_user_analytic' AS family, 2 AS source_rank, day AS partition_day, "$path" AS source_path,
        from_utf8(to_utf8(line)) AS text_line
    FROM ${database}.qdev_by_user_analytic_raw
),
lines AS (
    SELECT
        family,
        source_rank,
        partition_day,
        source_path,
        not_utf8,
        clean_line,
        names,
        -- A header names Date and UserId (trimmed, any case, any place): no looser test, so a stray line of words
        -- is a bad data line, not a second header that would reject the whole file.
        contains(split(names, ','), 'date') AND contains(split(names, ','), 'userid') AS is_header
    FROM (
        SELECT
            *,
            -- Only a line holding the text 'userid' can name that column, so only such lines are normalised (the
            -- others get '', never a header): the same answer, without two regexp_replace calls on every line.
            CASE WHEN strpos(lower(clean_line), 'userid') > 0
                THEN regexp_replace(regexp_replace(lower(clean_line), '[ \t\r]*,[ \t\r]*', ','), '^[ \t\r]+|[ \t\r]+$', '')
                ELSE ''
            END AS names
        FROM (
            SELECT
                family,
                source_rank,
                partition_day,
                source_path,
                strpos(text_line, chr(65533)) > 0 AS not_utf8,
                replace(replace(text_line, '"', ''), chr(65279), '') AS clean_line
            FROM raw
        ) AS t
    ) AS r
    WHERE NOT regexp_like(clean_line, '^[ \t\r]*$')
),
files AS (
    SELECT
        family,
        partition_day,
        source_path,
        count(DISTINCT header_text) AS header_layouts,
        max(header_text) AS header_text
    FROM (
        SELECT
            family,
            partition_day,
            source_path,
            CASE WHEN is_header THEN names END AS header_text
        FROM lines
    ) AS l
    GROUP BY family, partition_day, source_path
),
layouts AS (
    SELECT
        family,
        partition_day,
        source_path,
        header_layouts,
        header_text,
        COALESCE(NULLIF(regexp_extract(source_path, '.*/(user_report|by_user_analytic)/([^/]+)/', 2), ''), 'unknown')
            AS region,
        COALESCE(
            NULLIF(regexp_extract(regexp_extract(source_path, '[^/]*$'), '.*([0-9]{12})', 1), ''), '000000000000'
        ) AS export_stamp,
        cardinality(header) AS header_columns,
        cardinality(array_distinct(header)) < cardinality(header) AS duplicate_columns,
        NULLIF(array_position(header, 'date'), 0) AS p_date,
        NULLIF(array_position(header, 'userid'), 0) AS p_userid,
        NULLIF(array_position(header, 'client_type'), 0) AS p_client_type,
        NULLIF(array_position(header, 'chat_conversations'), 0) AS p_chat_conversations,
        NULLIF(array_position(header, 'credits_used'), 0) AS p_credits_used,
        NULLIF(array_position(header, 'overage_cap'), 0) AS p_overage_cap,
        NULLIF(array_position(header, 'overage_credits_used'), 0) AS p_overage_credits_used,
        NULLIF(array_position(header, 'overage_enabled'), 0) AS p_overage_enabled,
        NULLIF(array_position(header, 'subscription_tier'), 0) AS p_subscription_tier,
        NULLIF(array_position(header, 'total_messages'), 0) AS p_total_messages,
        NULLIF(array_position(header, 'new_user'), 0) AS p_new_user,
        NULLIF(array_position(header, 'user_email'), 0) AS p_user_email,
        NULLIF(array_position(header, 'usage_limit'), 0) AS p_usage_limit,
        NULLIF(array_position(header, 'chat_aicodelines'), 0) AS p_chat_aicodelines,
        NULLIF(array_position(header, 'chat_messagesinteracted'), 0) AS p_chat_messagesinteracted,
        NULLIF(array_position(header, 'chat_messagessent'), 0) AS p_chat_messagessent,
        NULLIF(array_position(header, 'codefix_acceptanceeventcount'), 0) AS p_codefix_acceptanceeventcount,
        NULLIF(array_position(header, 'codefix_acceptedlines'), 0) AS p_codefix_acceptedlines,
        NULLIF(array_position(header, 'codefix_generatedlines'), 0) AS p_codefix_generatedlines,
        NULLIF(array_position(header, 'codefix_generationeventcount'), 0) AS p_codefix_generationeventcount,
        NULLIF(array_position(header, 'codereview_failedeventcount'), 0) AS p_codereview_failedeventcount,
        NULLIF(array_position(header, 'codereview_findingscount'), 0) AS p_codereview_findingscount,
        NULLIF(array_position(header, 'codereview_succeededeventcount'), 0) AS p_codereview_succeededeventcount,
        NULLIF(array_position(header, 'dev_acceptanceeventcount'), 0) AS p_dev_acceptanceeventcount,
        NULLIF(array_position(header, 'dev_acceptedlines'), 0) AS p_dev_acceptedlines,
        NULLIF(array_position(header, 'dev_generatedlines'), 0) AS p_dev_generatedlines,
        NULLIF(array_position(header, 'dev_generationeventcount'), 0) AS p_dev_generationeventcount,
        NULLIF(array_position(header, 'docgeneration_acceptedfileupdates'), 0) AS p_docgeneration_acceptedfileupdates,
        NULLIF(array_position(header, 'docgeneration_acceptedfilescreations'), 0) AS p_docgeneration_acceptedfilescreations,
        NULLIF(array_position(header, 'docgeneration_acceptedlineadditions'), 0) AS p_docgeneration_acceptedlineadditions,
        NULLIF(array_position(header, 'docgeneration_acceptedlineupdates'), 0) AS p_docgeneration_acceptedlineupdates,
        NULLIF(array_position(header, 'docgeneration_eventcount'), 0) AS p_docgeneration_eventcount,
        NULLIF(array_position(header, 'docgeneration_rejectedfilecreations'), 0) AS p_docgeneration_rejectedfilecreations,
        NULLIF(array_position(header, 'docgeneration_rejectedfileupdates'), 0) AS p_docgeneration_rejectedfileupdates,
        NULLIF(array_position(header, 'docgeneration_rejectedlineadditions'), 0) AS p_docgeneration_rejectedlineadditions,
        NULLIF(array_position(header, 'docgeneration_rejectedlineupdates'), 0) AS p_docgeneration_rejectedlineupdates,
        NULLIF(array_position(header, 'inlinechat_acceptanceeventcount'), 0) AS p_inlinechat_acceptanceeventcount,
        NULLIF(array_position(header, 'inlinechat_acceptedlineadditions'), 0) AS p_inlinechat_acceptedlineadditions,
        NULLIF(array_position(header, 'inlinechat_acceptedlinedeletions'), 0) AS p_inlinechat_acceptedlinedeletions,
        NULLIF(array_position(header, 'inlinechat_dismissaleventcount'), 0) AS p_inlinechat_dismissaleventcount,
        NULLIF(array_position(header, 'inlinechat_dismissedlineadditions'), 0) AS p_inlinechat_dismissedlineadditions,
        NULLIF(array_position(header, 'inlinechat_dismissedlinedeletions'), 0) AS p_inlinechat_dismissedlinedeletions,
        NULLIF(array_position(header, 'inlinechat_rejectedlineadditions'), 0) AS p_inlinechat_rejectedlineadditions,
        NULLIF(array_position(header, 'inlinechat_rejectedlinedeletions'), 0) AS p_inlinechat_rejectedlinedeletions,
        NULLIF(array_position(header, 'inlinechat_rejectioneventcount'), 0) AS p_inlinechat_rejectioneventcount,
        NULLIF(array_position(header, 'inlinechat_totaleventcount'), 0) AS p_inlinechat_totaleventcount,
        NULLIF(array_position(header, 'inline_aicodelines'), 0) AS p_inline_aicodelines,
        NULLIF(array_position(header, 'inline_acceptancecount'), 0) AS p_inline_acceptancecount,
        NULLIF(array_position(header, 'inline_suggestionscount'), 0) AS p_inline_suggestionscount,
        NULLIF(array_position(header, 'testgeneration_acceptedlines'), 0) AS p_testgeneration_acceptedlines,
        NULLIF(array_position(header, 'testgeneration_acceptedtests'), 0) AS p_testgeneration_acceptedtests,
        NULLIF(array_position(header, 'testgeneration_eventcount'), 0) AS p_testgeneration_eventcount,
        NULLIF(array_position(header, 'testgeneration_generatedlines'), 0) AS p_testgeneration_generatedlines,
        NULLIF(array_position(header, 'testgeneration_generatedtests'), 0) AS p_testgeneration_generatedtests,
        NULLIF(array_position(header, 'transformation_eventcount'), 0) AS p_transformation_eventcount,
        NULLIF(array_position(header, 'transformation_linesgenerated'), 0) AS p_transformation_linesgenerated,
        NULLIF(array_position(header, 'transformation_linesingested'), 0) AS p_transformation_linesingested,
        -- <model>_messages columns (every *_messages but total_messages), found once per file: each line then
        -- reads only these cells, in long form (model_names[i] has model_messages[i]).
        filter(sequence(1, cardinality(header)), p -> length(element_at(header, p)) > 9
            AND substr(element_at(header, p), length(element_at(header, p)) - 8) = '_messages'
            AND element_at(header, p) <> 'total_messages') AS model_positions,
        transform(
            filter(header, name -> length(name) > 9 AND substr(name, length(name) - 8) = '_messages'
                AND name <> 'total_messages'),
            name -> substr(name, 1, length(name) - 9)
        ) AS model_names
    FROM (
        SELECT family, partition_day, source_path, header_layouts, header_text, split(header_text, ',') AS header
        FROM files
    ) AS f
),
cells AS (
    SELECT
        l.family,
        l.source_rank,
        l.partition_day,
        l.source_path,
        l.is_header,
        l.not_utf8,
        cardinality(l.fields) AS field_count,
        h.region,
        h.export_stamp,
        h.header_text,
        h.header_layouts,
        h.header_columns,
        h.duplicate_columns,
        CASE WHEN l.family = 'user_report' AND NOT l.is_header THEN h.model_names END AS model_names,
        -- Not checked: a cell that is not a whole number counts 0 messages for that model (sql/README.md).
        CASE WHEN l.family = 'user_report' AND NOT l.is_header THEN transform(h.model_positions,
            p -> COALESCE(TRY_CAST(element_at(l.fields, p) AS BIGINT), 0)) END AS model_messages,
        CASE l.family
            WHEN 'user_report' THEN h.p_date IS NULL OR h.p_userid IS NULL OR h.p_client_type IS NULL
                OR h.p_chat_conversations IS NULL OR h.p_credits_used IS NULL OR h.p_overage_cap IS NULL
                OR h.p_overage_credits_used IS NULL OR h.p_overage_enabled IS NULL
                OR h.p_subscription_tier IS NULL OR h.p_total_messages IS NULL
            ELSE h.p_date IS NULL OR h.p_userid IS NULL
        END AS missing_required,
        h.p_new_user IS NOT NULL AS has_new_user,
        h.p_user_email IS NOT NULL AS has_user_email,
        h.p_usage_limit IS NOT NULL AS has_usage_limit,
        element_at(l.fields, h.p_date) AS c_date,
        element_at(l.fields, h.p_userid) AS c_userid,
        element_at(l.fields, h.p_client_type) AS c_client_type,
        element_at(l.fields, h.p_chat_conversations) AS c_chat_conversations,
        element_at(l.fields, h.p_credits_used) AS c_credits_used,
        element_at(l.fields, h.p_overage_cap) AS c_overage_cap,
        element_at(l.fields, h.p_overage_credits_used) AS c_overage_credits_used,
        element_at(l.fields, h.p_overage_enabled) AS c_overage_enabled,
        element_at(l.fields, h.p_subscription_tier) AS c_subscription_tier,
        element_at(l.fields, h.p_total_messages) AS c_total_messages,
        element_at(l.fields, h.p_new_user) AS c_new_user,
        element_at(l.fields, h.p_user_email) AS c_user_email,
        element_at(l.fields, h.p_usage_limit) AS c_usage_limit,
        element_at(l.fields, h.p_chat_aicodelines) AS c_chat_aicodelines,
        element_at(l.fields, h.p_chat_messagesinteracted) AS c_chat_messagesinteracted,
        element_at(l.fields, h.p_chat_messagessent) AS c_chat_messagessent,
        element_at(l.fields, h.p_codefix_acceptanceeventcount) AS c_codefix_acceptanceeventcount,
        element_at(l.fields, h.p_codefix_acceptedlines) AS c_codefix_acceptedlines,
        element_at(l.fields, h.p_codefix_generatedlines) AS c_codefix_generatedlines,
        element_at(l.fields, h.p_codefix_generationeventcount) AS c_codefix_generationeventcount,
        element_at(l.fields, h.p_codereview_failedeventcount) AS c_codereview_failedeventcount,
        element_at(l.fields, h.p_codereview_findingscount) AS c_codereview_findingscount,
        element_at(l.fields, h.p_codereview_succeededeventcount) AS c_codereview_succeededeventcount,
        element_at(l.fields, h.p_dev_acceptanceeventcount) AS c_dev_acceptanceeventcount,
        element_at(l.fields, h.p_dev_acceptedlines) AS c_dev_acceptedlines,
        element_at(l.fields, h.p_dev_generatedlines) AS c_dev_generatedlines,
        element_at(l.fields, h.p_dev_generationeventcount) AS c_dev_generationeventcount,
        element_at(l.fields, h.p_docgeneration_acceptedfileupdates) AS c_docgeneration_acceptedfileupdates,
        element_at(l.fields, h.p_docgeneration_acceptedfilescreations) AS c_docgeneration_acceptedfilescreations,
        element_at(l.fields, h.p_docgeneration_acceptedlineadditions) AS c_docgeneration_acceptedlineadditions,
        element_at(l.fields, h.p_docgeneration_acceptedlineupdates) AS c_docgeneration_acceptedlineupdates,
        element_at(l.fields, h.p_docgeneration_eventcount) AS c_docgeneration_eventcount,
        element_at(l.fields, h.p_docgeneration_rejectedfilecreations) AS c_docgeneration_rejectedfilecreations,
        element_at(l.fields, h.p_docgeneration_rejectedfileupdates) AS c_docgeneration_rejectedfileupdates,
        element_at(l.fields, h.p_docgeneration_rejectedlineadditions) AS c_docgeneration_rejectedlineadditions,
        element_at(l.fields, h.p_docgeneration_rejectedlineupdates) AS c_docgeneration_rejectedlineupdates,
        element_at(l.fields, h.p_inlinechat_acceptanceeventcount) AS c_inlinechat_acceptanceeventcount,
        element_at(l.fields, h.p_inlinechat_acceptedlineadditions) AS c_inlinechat_acceptedlineadditions,
        element_at(l.fields, h.p_inlinechat_acceptedlinedeletions) AS c_inlinechat_acceptedlinedeletions,
        element_at(l.fields, h.p_inlinechat_dismissaleventcount) AS c_inlinechat_dismissaleventcount,
        element_at(l.fields, h.p_inlinechat_dismissedlineadditions) AS c_inlinechat_dismissedlineadditions,
        element_at(l.fields, h.p_inlinechat_dismissedlinedeletions) AS c_inlinechat_dismissedlinedeletions,
        element_at(l.fields, h.p_inlinechat_rejectedlineadditions) AS c_inlinechat_rejectedlineadditions,
        element_at(l.fields, h.p_inlinechat_rejectedlinedeletions) AS c_inlinechat_rejectedlinedeletions,
        element_at(l.fields, h.p_inlinechat_rejectioneventcount) AS c_inlinechat_rejectioneventcount,
        element_at(l.fields, h.p_inlinechat_totaleventcount) AS c_inlinechat_totaleventcount,
        element_at(l.fields, h.p_inline_aicodelines) AS c_inline_aicodelines,
        element_at(l.fields, h.p_inline_acceptancecount) AS c_inline_acceptancecount,
        element_at(l.fields, h.p_inline_suggestionscount) AS c_inline_suggestionscount,
        element_at(l.fields, h.p_testgeneration_acceptedlines) AS c_testgeneration_acceptedlines,
        element_at(l.fields, h.p_testgeneration_acceptedtests) AS c_testgeneration_acceptedtests,
        element_at(l.fields, h.p_testgeneration_eventcount) AS c_testgeneration_eventcount,
        element_at(l.fields, h.p_testgeneration_generatedlines) AS c_testgeneration_generatedlines,
        element_at(l.fields, h.p_testgeneration_generatedtests) AS c_testgeneration_generatedtests,
        element_at(l.fields, h.p_transformation_eventcount) AS c_transformation_eventcount,
        element_at(l.fields, h.p_transformation_linesgenerated) AS c_transformation_linesgenerated,
        element_at(l.fields, h.p_transformation_linesingested) AS c_transformation_linesingested
    FROM (
        SELECT
            family,
            source_rank,
            partition_day,
            source_path,
            is_header,
            not_utf8,
            -- Each cell trimmed: only a line holding a space, a control or a non-ASCII character can have a cell
            -- that trim() changes, so the others are split as they are (the same cells, without a trim per cell).
            CASE WHEN regexp_like(clean_line, '[^!-~]') THEN transform(split(clean_line, ','), f -> trim(f))
                ELSE split(clean_line, ',')
            END AS fields
        FROM lines
    ) AS l
    JOIN layouts AS h ON h.family = l.family AND h.partition_day = l.partition_day AND h.source_path = l.source_path
),
keyed AS (
    SELECT
        *,
        CASE
            WHEN regexp_like(c_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') THEN TRY_CAST(c_date AS DATE)
            WHEN regexp_like(c_date, '^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$') THEN TRY_CAST(
                split_part(c_date, '-', 3) || '-' || lpad(split_part(c_date, '-', 1), 2, '0')
                || '-' || lpad(split_part(c_date, '-', 2), 2, '0') AS DATE)
        END AS activity_date,
        -- Identity Center ids arrive bare, quoted (quotes are gone already) or as <store id>.<uuid>.
        regexp_replace(c_userid, '^d-[0-9A-Za-z]+[.]', '') AS userid,
        CASE family
            -- Credits_Used must be a number; the other counts and amounts may be empty (0, or NULL for usage_limit)
            -- but nothing else. No sign: credits, caps and counts are never negative. Whole numbers are digits that
            -- fit a BIGINT. A decimal must be finite: the pattern keeps out NaN and Infinity; one beyond the largest
            -- double (1.7976931348623157E308, e.g. 1e999) casts to Infinity in Trino (Double.parseDouble) and in
            -- DuckDB, and "Infinity <= largest" is false (a NULL cast would not be true either): bad number.
            WHEN 'user_report' THEN COALESCE(regexp_like(
                concat_ws(',', COALESCE(c_credits_used, ''), COALESCE(c_chat_conversations, ''),
                    COALESCE(c_total_messages, ''), COALESCE(c_overage_cap, ''), COALESCE(c_overage_credits_used, ''),
                    COALESCE(c_usage_limit, '')),
                '^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?,[0-9]*,[0-9]*,([0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?)?,([0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?)?,([0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?)?$')
                AND TRY_CAST(c_credits_used AS DOUBLE) <= 1.7976931348623157E308
                AND (COALESCE(c_chat_conversations, '') = '' OR TRY_CAST(c_chat_conversations AS BIGINT) >= 0)
                AND (COALESCE(c_total_messages, '') = '' OR TRY_CAST(c_total_messages AS BIGINT) >= 0)
                AND (COALESCE(c_overage_cap, '') = '' OR TRY_CAST(c_overage_cap AS DOUBLE) <= 1.7976931348623157E308)
                AND (COALESCE(c_overage_credits_used, '') = ''
                    OR TRY_CAST(c_overage_credits_used AS DOUBLE) <= 1.7976931348623157E308)
                AND (COALESCE(c_usage_limit, '') = '' OR TRY_CAST(c_usage_limit AS DOUBLE) <= 1.7976931348623157E308), false)
            -- Every legacy metric is a whole number of at most 9 digits (an INTEGER here: this view is wide, and
            -- user_behavior_daily sums them as BIGINT); Q Developer era files leave zeros empty.
            ELSE regexp_like(legacy_cells, '^[0-9,]*$') AND NOT regexp_like(legacy_cells, '[0-9]{10}')
        END AS numbers_ok
    FROM (
        SELECT
            *,
            -- The legacy metrics' cells joined by commas, for one pattern test (concat_ws skips a NULL cell, an absent
            -- column, which the test would pass anyway; one string, not one per `||`).
            CASE WHEN family = 'by_user_analytic' THEN concat_ws(',',
                c_chat_aicodelines, c_chat_messagesinteracted, c_chat_messagessent, c_codefix_acceptanceeventcount,
                c_codefix_acceptedlines, c_codefix_generatedlines, c_codefix_generationeventcount,
                c_codereview_failedeventcount, c_codereview_findingscount, c_codereview_succeededeventcount,
                c_dev_acceptanceeventcount, c_dev_acceptedlines, c_dev_generatedlines, c_dev_generationeventcount,
                c_docgeneration_acceptedfileupdates, c_docgeneration_acceptedfilescreations,
                c_docgeneration_acceptedlineadditions, c_docgeneration_acceptedlineupdates,
                c_docgeneration_eventcount, c_docgeneration_rejectedfilecreations,
                c_docgeneration_rejectedfileupdates, c_docgeneration_rejectedlineadditions,
                c_docgeneration_rejectedlineupdates, c_inlinechat_acceptanceeventcount,
                c_inlinechat_acceptedlineadditions, c_inlinechat_acceptedlinedeletions,
                c_inlinechat_dismissaleventcount, c_inlinechat_dismissedlineadditions,
                c_inlinechat_dismissedlinedeletions, c_inlinechat_rejectedlineadditions,
                c_inlinechat_rejectedlinedeletions, c_inlinechat_rejectioneventcount, c_inlinechat_totaleventcount,
                c_inline_aicodelines, c_inline_acceptancecount, c_inline_suggestionscount,
                c_testgeneration_acceptedlines, c_testgeneration_acceptedtests, c_testgeneration_eventcount,
                c_testgeneration_generatedlines, c_testgeneration_generatedtests, c_transformation_eventcount,
                c_transformation_linesgenerated, c_transformation_linesingested)
            END AS legacy_cells
        FROM cells
    ) AS c
),
typed AS (
    SELECT
        family,
        source_rank,
        partition_day,
        source_path,
        region,
        export_stamp,
        is_header,
        header_text,
        header_columns,
        model_names,
        model_messages,
        activity_date,
        userid,
        CASE WHEN family = 'user_report' THEN COALESCE(NULLIF(upper(c_client_type), ''), 'UNKNOWN') ELSE 'ALL' END
            AS client_type,
        CASE
            WHEN is_header THEN NULL
            WHEN header_text IS NULL THEN 'no header'
            WHEN header_layouts > 1 OR duplicate_columns THEN 'unknown header layout'
            WHEN missing_required THEN 'missing required column'
            WHEN not_utf8 THEN 'not UTF-8'
            WHEN field_count < header_columns THEN 'truncated line'
            WHEN field_count > header_columns THEN 'extra fields (a comma in a field)'
            WHEN activity_date IS NULL THEN 'bad date'
            WHEN userid IS NULL OR userid = '' THEN 'no user id'
            WHEN NOT numbers_ok THEN 'bad number'
        END AS reject_reason,
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
        CASE WHEN has_usage_limit THEN TRY_CAST(c_usage_limit AS DOUBLE) END AS usage_limit,
        COALESCE(TRY_CAST(c_chat_aicodelines AS INTEGER), 0) AS chat_aicodelines,
        COALESCE(TRY_CAST(c_chat_messagesinteracted AS INTEGER), 0) AS chat_messagesinteracted,
        COALESCE(TRY_CAST(c_chat_messagessent AS INTEGER), 0) AS chat_messagessent,
        COALESCE(TRY_CAST(c_codefix_acceptanceeventcount AS INTEGER), 0) AS codefix_acceptanceeventcount,
        COALESCE(TRY_CAST(c_codefix_acceptedlines AS INTEGER), 0) AS codefix_acceptedlines,
        COALESCE(TRY_CAST(c_codefix_generatedlines AS INTEGER), 0) AS codefix_generatedlines,
        COALESCE(TRY_CAST(c_codefix_generationeventcount AS INTEGER), 0) AS codefix_generationeventcount,
        COALESCE(TRY_CAST(c_codereview_failedeventcount AS INTEGER), 0) AS codereview_failedeventcount,
        COALESCE(TRY_CAST(c_codereview_findingscount AS INTEGER), 0) AS codereview_findingscount,
        COALESCE(TRY_CAST(c_codereview_succeededeventcount AS INTEGER), 0) AS codereview_succeededeventcount,
        COALESCE(TRY_CAST(c_dev_acceptanceeventcount AS INTEGER), 0) AS dev_acceptanceeventcount,
        COALESCE(TRY_CAST(c_dev_acceptedlines AS INTEGER), 0) AS dev_acceptedlines,
        COALESCE(TRY_CAST(c_dev_generatedlines AS INTEGER), 0) AS dev_generatedlines,
        COALESCE(TRY_CAST(c_dev_generationeventcount AS INTEGER), 0) AS dev_generationeventcount,
        COALESCE(TRY_CAST(c_docgeneration_acceptedfileupdates AS INTEGER), 0) AS docgeneration_acceptedfileupdates,
        COALESCE(TRY_CAST(c_docgeneration_acceptedfilescreations AS INTEGER), 0) AS docgeneration_acceptedfilescreations,
        COALESCE(TRY_CAST(c_docgeneration_acceptedlineadditions AS INTEGER), 0) AS docgeneration_acceptedlineadditions,
        COALESCE(TRY_CAST(c_docgeneration_acceptedlineupdates AS INTEGER), 0) AS docgeneration_acceptedlineupdates,
        COALESCE(TRY_CAST(c_docgeneration_eventcount AS INTEGER), 0) AS docgeneration_eventcount,
        COALESCE(TRY_CAST(c_docgeneration_rejectedfilecreations AS INTEGER), 0) AS docgeneration_rejectedfilecreations,
        COALESCE(TRY_CAST(c_docgeneration_rejectedfileupdates AS INTEGER), 0) AS docgeneration_rejectedfileupdates,
        COALESCE(TRY_CAST(c_docgeneration_rejectedlineadditions AS INTEGER), 0) AS docgeneration_rejectedlineadditions,
        COALESCE(TRY_CAST(c_docgeneration_rejectedlineupdates AS INTEGER), 0) AS docgeneration_rejectedlineupdates,
        COALESCE(TRY_CAST(c_inlinechat_acceptanceeventcount AS INTEGER), 0) AS inlinechat_acceptanceeventcount,
        COALESCE(TRY_CAST(c_inlinechat_acceptedlineadditions AS INTEGER), 0) AS inlinechat_acceptedlineadditions,
        COALESCE(TRY_CAST(c_inlinechat_acceptedlinedeletions AS INTEGER), 0) AS inlinechat_acceptedlinedeletions,
        COALESCE(TRY_CAST(c_inlinechat_dismissaleventcount AS INTEGER), 0) AS inlinechat_dismissaleventcount,
        COALESCE(TRY_CAST(c_inlinechat_dismissedlineadditions AS INTEGER), 0) AS inlinechat_dismissedlineadditions,
        COALESCE(TRY_CAST(c_inlinechat_dismissedlinedeletions AS INTEGER), 0) AS inlinechat_dismissedlinedeletions,
        COALESCE(TRY_CAST(c_inlinechat_rejectedlineadditions AS INTEGER), 0) AS inlinechat_rejectedlineadditions,
        COALESCE(TRY_CAST(c_inlinechat_rejectedlinedeletions AS INTEGER), 0) AS inlinechat_rejectedlinedeletions,
        COALESCE(TRY_CAST(c_inlinechat_rejectioneventcount AS INTEGER), 0) AS inlinechat_rejectioneventcount,
        COALESCE(TRY_CAST(c_inlinechat_totaleventcount AS INTEGER), 0) AS inlinechat_totaleventcount,
        COALESCE(TRY_CAST(c_inline_aicodelines AS INTEGER), 0) AS inline_aicodelines,
        COALESCE(TRY_CAST(c_inline_acceptancecount AS INTEGER), 0) AS inline_acceptancecount,
        COALESCE(TRY_CAST(c_inline_suggestionscount AS INTEGER), 0) AS inline_suggestionscount,
        COALESCE(TRY_CAST(c_testgeneration_acceptedlines AS INTEGER), 0) AS testgeneration_acceptedlines,
        COALESCE(TRY_CAST(c_testgeneration_acceptedtests AS INTEGER), 0) AS testgeneration_acceptedtests,
        COALESCE(TRY_CAST(c_testgeneration_eventcount AS INTEGER), 0) AS testgeneration_eventcount,
        COALESCE(TRY_CAST(c_testgeneration_generatedlines AS INTEGER), 0) AS testgeneration_generatedlines,
        COALESCE(TRY_CAST(c_testgeneration_generatedtests AS INTEGER), 0) AS testgeneration_generatedtests,
        COALESCE(TRY_CAST(c_transformation_eventcount AS INTEGER), 0) AS transformation_eventcount,
        COALESCE(TRY_CAST(c_transformation_linesgenerated AS INTEGER), 0) AS transformation_linesgenerated,
        COALESCE(TRY_CAST(c_transformation_linesingested AS INTEGER), 0) AS transformation_linesingested
    FROM keyed
)
-- No ranking here: which valid line of a key is used depends on every export ever loaded, so report_line_status
-- decides it over report_line_facts. This view is the parse only, read by sql/facts/report_line_facts.load.sql for
-- a range of day folders (partition_day), so each raw line is parsed once, when its day is loaded.
SELECT
    family,
    source_rank,
    partition_day,
    TRY_CAST(replace(partition_day, '/', '-') AS DATE) AS source_day,
    source_path,
    region,
    export_stamp,
    CASE WHEN is_header THEN 'header' WHEN reject_reason IS NOT NULL THEN 'rejected' ELSE 'valid' END AS line_status,
    reject_reason,
    -- The file's header (names trimmed and lower-cased, comma-separated) on its header line only: one copy per
    -- file, not one per data line; the ledger, freshness and user_report_latest take it from there.
    CASE WHEN is_header THEN header_text END AS header_text,
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
    transformation_linesingested
FROM typed
