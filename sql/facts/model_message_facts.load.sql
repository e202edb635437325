-- Load the model cells of the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) from those days'
-- line facts, just loaded (report_line_facts.load.sql runs first for the same days; facts.LINE_FACTS), so the parse
-- is not run twice. model_names[i] has model_messages[i]; the positions 1 .. the line's cell count are a sequence
-- (at least 1: Trino's sequence(1, 0) is an error; a line without model columns gives one NULL cell, dropped by the
-- messages > 0 test, as is a blank or 0 cell). model_message_facts.delete.sql runs first for the same days.
INSERT INTO ${database}.model_message_facts (
    source_day,
    source_path,
    region,
    activity_date,
    userid,
    client_type,
    model,
    messages
)
SELECT
    f.source_day,
    f.source_path,
    f.region,
    f.activity_date,
    f.userid,
    f.client_type,
    element_at(f.model_names, p.pos) AS model,
    element_at(f.model_messages, p.pos) AS messages
FROM ${database}.report_line_facts AS f
CROSS JOIN UNNEST(sequence(1, greatest(COALESCE(cardinality(f.model_names), 0), 1))) AS p (pos)
WHERE f.source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
  AND f.family = 'user_report'
  AND f.line_status = 'valid'
  AND element_at(f.model_messages, p.pos) > 0
