-- Identity Center user id -> display name, written by the user-name sync (step 6 / the Lambda).
-- OpenCSVSerde returns every column as a string and '' for an empty field.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.user_mapping (
    userid string,
    username string,
    user_name string,
    email string,
    groups string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\\')
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${user_mapping_prefix}'
TBLPROPERTIES ('skip.header.line.count' = '1')
