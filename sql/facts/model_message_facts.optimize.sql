-- Compact the day folders ${first_day} .. ${last_day} (yyyy/MM/dd, inclusive) right after they were loaded (the
-- DELETE left delete files there); the WHERE names the partition column only, as OPTIMIZE requires
-- (https://docs.aws.amazon.com/athena/latest/ug/optimize-statement.html).
OPTIMIZE ${database}.model_message_facts REWRITE DATA USING BIN_PACK
WHERE source_day BETWEEN DATE '${first_date}' AND DATE '${last_date}'
