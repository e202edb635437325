-- Compact the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) right after they were loaded: the
-- DELETE before each load leaves Iceberg delete files in those days' partitions (Athena deletes merge-on-read,
-- https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-updating-iceberg-table-data.html), which every read
-- applies until OPTIMIZE rewrites them into the data files
-- (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-data-optimization.html). OPTIMIZE is charged by
-- the data it rewrites, and its WHERE may name partition columns only
-- (https://docs.aws.amazon.com/athena/latest/ug/optimize-statement.html): source_day keeps it to the loaded days.
OPTIMIZE ${database}.report_line_facts REWRITE DATA USING BIN_PACK
WHERE source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
