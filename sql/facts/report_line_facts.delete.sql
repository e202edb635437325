-- Remove the facts of the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) before they are loaded
-- again (a new or re-sent export of those days). Athena's DELETE on an Iceberg table
-- (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-delete.html).
DELETE FROM ${database}.report_line_facts
WHERE source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
