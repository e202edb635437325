-- Internal: one team label per user, for the Team control on the per-user datasets (one row per user, so joining
-- it never repeats a user's numbers; team_user_daily instead repeats a person under each group). The label is the
-- name map's groups column as the sync writes it (sorted, ';'-joined) with ' + ' between groups: a person in one
-- group is under that group's name, a person in two under the pair ('data + security'). A mapped user in no
-- group is '(no group)'; readers give users missing from the map '(unknown)', as team_user_daily does.
CREATE OR REPLACE VIEW ${database}.user_teams AS
SELECT
    userid,
    COALESCE(NULLIF(max(team), ''), '(no group)') AS team
FROM (
    SELECT
        regexp_replace(replace(trim(userid), '"', ''), '^d-[0-9A-Za-z]+[.]', '') AS userid,
        regexp_replace(trim(COALESCE(groups, '')), '[ ]*;[ ]*', ' + ') AS team
    FROM ${database}.user_mapping
) AS m
WHERE userid <> ''
GROUP BY userid
