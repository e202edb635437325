-- Remove the model cells of the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) before they are
-- loaded again, with report_line_facts' (a new or re-sent export of those days). Athena's DELETE on an Iceberg table
-- (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-delete.html).
DELETE FROM ${database}.model_message_facts
WHERE source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
