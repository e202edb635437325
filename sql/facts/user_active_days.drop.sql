-- Drop the table when its columns changed (step 5 creates it again and reloads every month). Athena's DROP TABLE of
-- an Iceberg table removes its data too (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-drop-table.html).
DROP TABLE IF EXISTS ${database}.user_active_days
