-- The same legacy report from the Amazon Q Developer era (QDeveloperLogs), merged with the Kiro
-- copy in legacy_report_lines. See user_report_raw.sql for why lines are read whole.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.qdev_by_user_analytic_raw (
    line string
)
PARTITIONED BY (region string, year string, month string, day string, hour string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/QDeveloperLogs/by_user_analytic/'
TBLPROPERTIES ('classification' = 'text')
