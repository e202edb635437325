-- Dashboard: inline suggestion acceptance per (day, user); acceptance_rate is a fraction (0-1),
-- NULL when there were no suggestions.
CREATE OR REPLACE VIEW ${database}.inline_acceptance_daily AS
SELECT
    b.activity_date,
    b.userid,
    COALESCE(n.username, b.userid) AS username,
    b.inline_suggestionscount AS suggestions,
    b.inline_acceptancecount AS acceptances,
    TRY_CAST(b.inline_acceptancecount AS DOUBLE) / NULLIF(b.inline_suggestionscount, 0) AS acceptance_rate
FROM ${database}.user_behavior_daily AS b
LEFT JOIN ${database}.user_names AS n ON n.userid = b.userid
WHERE b.inline_suggestionscount > 0 OR b.inline_acceptancecount > 0
