-- After a load: expire snapshots older than the table's vacuum_max_snapshot_age_seconds (report_line_facts.sql) and
-- remove the files no snapshot reaches any more, the superseded days' data and delete files
-- (https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html). The caller needs s3:DeleteObject under the
-- table's location: without it VACUUM still succeeds but deletes nothing (same page), so the IAM test checks it.
VACUUM ${database}.report_line_facts
