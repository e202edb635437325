-- Identity Center user id -> display name, written by the user-name sync (step 6 / the Lambda).
-- OpenCSVSerde returns every column as a string and '' for an empty field.
-- The sync writes RFC 4180 CSV (a quote inside a quoted field is doubled), which OpenCSVSerde reads with any
-- escapeChar. OpenCSVSerde drops its escapeChar from the data, and left unset that is a backslash, so a name
-- like DOMAIN\ann would lose it. U+0001 is a control character the sync never writes (clean_field drops it).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.user_mapping (
    userid string,
    username string,
    user_name string,
    email string,
    groups string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0001')
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${user_mapping_prefix}'
TBLPROPERTIES ('skip.header.line.count' = '1')
