-- Legacy 46-column daily report written by Kiro (by_user_analytic), one string column per CSV line.
-- See user_report_raw.sql for why lines are read whole.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.kiro_by_user_analytic_raw (
    line string
)
PARTITIONED BY (region string, year string, month string, day string, hour string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/by_user_analytic/'
TBLPROPERTIES ('classification' = 'text')
