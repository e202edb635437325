-- Dashboard: distinct users active on the day (dau), in the trailing 7 days (wau) and trailing
-- 30 days (mau), for every day from the first activity to the last (quiet days included; a day with nobody
-- active in its 30 days has no row).
-- Counted without spreading each (day, user) over 30 days (issue 12: that was 30 rows per active day and three
-- distinct counts over them). A user is in the w-day window of day D when one of their active days falls in
-- D-w+1 .. D, so each active day d adds the user to the days d .. d+w-1 that the user's previous active day p did
-- not already cover: from greatest(d, p+w), never overlapping, so each user is counted once per day. Those stretches
-- become +1 at their first day and -1 after their last; a day's count is the sum of the changes up to it.
-- The (day, user) rows are user_days' as the facts job keeps them (facts/user_active_days.sql): a full refresh reads
-- those, not every line.
CREATE OR REPLACE VIEW ${database}.active_users_daily AS
WITH marked AS (
    SELECT
        activity_date,
        lag(activity_date) OVER (PARTITION BY userid ORDER BY activity_date) AS previous_date
    FROM ${database}.user_active_days
),
changes AS (
    SELECT
        c.change_date,
        sum(CASE WHEN c.window_days = 1 THEN c.step ELSE 0 END) AS dau,
        sum(CASE WHEN c.window_days = 7 THEN c.step ELSE 0 END) AS wau,
        sum(CASE WHEN c.window_days = 30 THEN c.step ELSE 0 END) AS mau
    FROM marked AS m
    CROSS JOIN UNNEST(
        ARRAY[
            m.activity_date,
            TRY_CAST(date_add('day', 1, m.activity_date) AS DATE),
            COALESCE(greatest(m.activity_date, TRY_CAST(date_add('day', 7, m.previous_date) AS DATE)), m.activity_date),
            TRY_CAST(date_add('day', 7, m.activity_date) AS DATE),
            COALESCE(greatest(m.activity_date, TRY_CAST(date_add('day', 30, m.previous_date) AS DATE)), m.activity_date),
            TRY_CAST(date_add('day', 30, m.activity_date) AS DATE)
        ],
        ARRAY[1, 1, 7, 7, 30, 30],
        ARRAY[1, -1, 1, -1, 1, -1]
    ) AS c (change_date, window_days, step)
    GROUP BY c.change_date
),
bounds AS (
    SELECT min(activity_date) AS first_date, max(activity_date) AS last_date FROM ${database}.user_active_days
),
calendar AS (
    SELECT TRY_CAST(date_add('day', s.k, b.first_date) AS DATE) AS activity_date
    FROM bounds AS b
    CROSS JOIN UNNEST(sequence(0, date_diff('day', b.first_date, b.last_date))) AS s (k)
)
SELECT
    d.activity_date,
    TRY_CAST(sum(c.dau) AS BIGINT) AS dau,
    TRY_CAST(sum(c.wau) AS BIGINT) AS wau,
    TRY_CAST(sum(c.mau) AS BIGINT) AS mau
FROM calendar AS d
JOIN changes AS c ON c.change_date <= d.activity_date
GROUP BY d.activity_date
HAVING sum(c.mau) > 0
