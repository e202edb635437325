-- Who holds a Kiro seat: members of the Identity Center groups in seats.groups, written by the user-name sync
-- (step 6 / the Lambda) as userid,group,roster_date, one row per (member, seat group). roster_date is the first
-- sync that saw the member (earliest kept), ISO YYYY-MM-DD. Read by position, header skipped: the CSV's `group`
-- column is seat_group here (GROUP is a reserved word).
-- Its own folder beside the mapping's, not inside it: Athena reads every object under a LOCATION, subfolders
-- included, so a roster in the mapping folder would be read as mapping rows. SerDe settings as user_mapping.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.seat_roster (
    userid string,
    seat_group string,
    roster_date string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0001')
STORED AS TEXTFILE
LOCATION 's3://${bucket}/${seat_roster_prefix}'
TBLPROPERTIES ('skip.header.line.count' = '1')
