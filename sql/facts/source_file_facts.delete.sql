-- Remove the months ${first_date} .. ${last_date} before they are loaded again (a day folder of theirs was loaded).
-- Athena's DELETE on an Iceberg table (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-delete.html).
DELETE FROM ${database}.source_file_facts
WHERE month BETWEEN DATE '${first_date}' AND DATE '${last_date}'
