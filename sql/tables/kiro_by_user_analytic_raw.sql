-- Legacy 46-column daily report written by Kiro (by_user_analytic), one string column per CSV line.
-- See user_report_raw.sql for why lines are read whole and how partitions are projected.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.kiro_by_user_analytic_raw (
    line string
)
PARTITIONED BY (region string, day string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/by_user_analytic/'
TBLPROPERTIES (
    'classification' = 'text',
    'projection.enabled' = 'true',
    'projection.region.type' = 'enum',
    'projection.region.values' = '${report_regions}',
    'projection.day.type' = 'date',
    'projection.day.format' = 'yyyy/MM/dd',
    'projection.day.range' = '${first_report_day},NOW',
    'projection.day.interval' = '1',
    'projection.day.interval.unit' = 'DAYS',
    'storage.location.template' = 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/by_user_analytic/$${region}/$${day}/'
)
