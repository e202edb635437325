-- Kiro per-client daily credit reports (user_report), one string column per CSV line.
-- Columns are bound by header name in the views, because the trailing columns come and go and
-- change order between months; a positional table would read one model's count under another's name.
-- The field delimiter \u0001 never occurs, so each line arrives whole; no header is skipped because
-- the views need each file's own header line (found by "$path").
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.user_report_raw (
    line string
)
PARTITIONED BY (region string, year string, month string, day string, hour string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/user_report/'
TBLPROPERTIES ('classification' = 'text')
