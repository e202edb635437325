-- Compact the months just reloaded (the DELETE left delete files there); the WHERE names the partition column only,
-- as OPTIMIZE requires (https://docs.aws.amazon.com/athena/latest/ug/optimize-statement.html).
OPTIMIZE ${database}.user_month_facts REWRITE DATA USING BIN_PACK
WHERE month BETWEEN DATE '${first_date}' AND DATE '${last_date}'
