-- Load the model cells of the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) from those days'
-- line facts, just loaded (report_line_facts.load.sql runs first for the same days; facts.LINE_FACTS), so the parse
-- is not run twice. model_names[i] has model_messages[i]: UNNEST of the two arrays zips them (Trino; locally a
-- LATERAL select of one unnest() per array, translate.zip_unnests); a line without model columns has no cells, a
-- blank or 0 cell is dropped by the messages > 0 test. model_message_facts.delete.sql runs first for the same days.
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
    c.model,
    c.messages
FROM ${database}.report_line_facts AS f
CROSS JOIN UNNEST(f.model_names, f.model_messages) AS c (model, messages)
WHERE f.source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
  AND f.family = 'user_report'
  AND f.line_status = 'valid'
  AND c.messages > 0
