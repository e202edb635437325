-- Drop the table when its columns changed, or when report_line_facts is created again (step 5 then creates both and
-- reloads every day). Athena's DROP TABLE of an Iceberg table removes its data too
-- (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-drop-table.html).
DROP TABLE IF EXISTS ${database}.model_message_facts
