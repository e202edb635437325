-- Load the months ${first_date} .. ${last_date} (first day of the first month, last day of the last) from
-- views/user_days.sql, which reads the fact lines directly, so the date range reaches the fact scan.
-- user_active_days.delete.sql runs first for the same months, so a load is idempotent. Athena writes at most 100
-- partitions per INSERT INTO (https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html): the loader sends
-- at most 90 months at once.
INSERT INTO ${database}.user_active_days (
    month,
    activity_date,
    userid
)
SELECT
    TRY_CAST(date_trunc('month', activity_date) AS DATE) AS month,
    activity_date,
    userid
FROM ${database}.user_days
WHERE activity_date BETWEEN DATE '${first_date}' AND DATE '${last_date}'
