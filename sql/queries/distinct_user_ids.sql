-- Every user id that appears in any report, for the user-name sync (step 6 and its Lambda).
-- Runs in the session database (QueryExecutionContext), so it needs no placeholders and ships in the Lambda as is.
-- The id is the first Identity Center user id on each line (UserId comes before ProfileId in user_report and is
-- the first column of by_user_analytic), with or without the optional 10-hex prefix of newer ids; a leading
-- "d-xxxxxxxxxx." identity-store prefix is skipped because it ends in a dot. Header lines contain no id.
SELECT DISTINCT lower(user_id) AS user_id
FROM (
    SELECT regexp_extract(line, '(?i)([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}') AS user_id
    FROM user_report_raw
    UNION ALL
    SELECT regexp_extract(line, '(?i)([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
    FROM kiro_by_user_analytic_raw
    UNION ALL
    SELECT regexp_extract(line, '(?i)([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
    FROM qdev_by_user_analytic_raw
) AS ids
WHERE user_id IS NOT NULL
