-- Internal: one row per (user, Identity Center group) from the name map's ';'-joined groups column;
-- a mapped user in no group gets the team '(no group)'. Ids are normalised as in user_names, and
-- DISTINCT keeps a user listed twice in the map from counting twice in a team.
CREATE OR REPLACE VIEW ${database}.user_groups AS
WITH mapped AS (
    SELECT
        regexp_replace(replace(trim(userid), '"', ''), '^d-[0-9A-Za-z]+[.]', '') AS userid,
        split(COALESCE(groups, ''), ';') AS group_list
    FROM ${database}.user_mapping
),
named AS (
    SELECT m.userid, trim(g.group_name) AS team
    FROM mapped AS m
    CROSS JOIN UNNEST(m.group_list) AS g (group_name)
    WHERE m.userid <> ''
)
SELECT DISTINCT userid, team
FROM named
WHERE team <> ''
UNION
SELECT userid, '(no group)' AS team
FROM named
GROUP BY userid
HAVING max(team) = ''
