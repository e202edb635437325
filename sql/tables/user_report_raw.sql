-- Kiro per-client daily credit reports (user_report), one string column per CSV line.
-- Columns are bound by header name in the views, because the trailing columns come and go and
-- change order between months; a positional table would read one model's count under another's name.
-- The field delimiter \u0001 never occurs, so each line arrives whole; no header is skipped because
-- the views need each file's own header line (found by "$path").
-- Partitions are projected, not crawled (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html):
-- region from s3.report_regions, day = the yyyy/MM/dd folders from s3.first_report_day to today (NOW), so a day
-- Kiro writes is queryable at once. The location ends at the day: Athena reads every file under it, the 00 folder
-- included (https://docs.aws.amazon.com/athena/latest/ug/tables-location-format.html).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.user_report_raw (
    line string
)
PARTITIONED BY (region string, day string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\u0001'
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/user_report/'
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
    'storage.location.template' = 's3://${bucket}/${prefix}AWSLogs/${account_id}/KiroLogs/user_report/$${region}/$${day}/'
)
