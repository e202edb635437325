-- Drop the fact table when its columns changed (step 5 then creates it again and reloads every day). Athena's DROP
-- TABLE of an Iceberg table removes its data too (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-drop-table.html).
DROP TABLE IF EXISTS ${database}.report_line_facts
