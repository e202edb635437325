-- Internal: one display name per normalised user id. Grouping guards every LEFT JOIN against a
-- mapping file that lists a user twice (which would double that user's numbers).
CREATE OR REPLACE VIEW ${database}.user_names AS
SELECT
    userid,
    max(username) AS username
FROM (
    SELECT
        regexp_replace(replace(trim(userid), '"', ''), '^d-[0-9A-Za-z]+[.]', '') AS userid,
        NULLIF(trim(username), '') AS username
    FROM ${database}.user_mapping
) AS m
WHERE userid <> ''
GROUP BY userid
