-- The same legacy report from the Amazon Q Developer era (QDeveloperLogs), merged with the Kiro
-- copy in legacy_report_lines. See user_report_raw.sql for why lines are read whole and how partitions are
-- projected (s3.first_report_day must be on or before the oldest of these files).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.qdev_by_user_analytic_raw (
    line string
)
PARTITIONED BY (region string, day string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/QDeveloperLogs/by_user_analytic/'
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
    'storage.location.template' = 's3://${bucket}/${prefix}AWSLogs/${account_id}/QDeveloperLogs/by_user_analytic/$${region}/$${day}/'
)
