-- Dashboard: one row per seat holder in the roster (seats.groups), idle or not, as of the data's last day
-- (max activity_date in either report, never the wall clock, so the same files always give the same answer).
-- status: ACTIVE = active in the last ${seat_idle_after_days} days up to that day; NEW = rostered fewer than
-- ${seat_grace_days} days before it and not active since being rostered (a new starter's grace period);
-- LAPSED = active once, not in that window; NEVER_ACTIVATED = never active (and past the grace period).
-- tier: the tier on the user's latest report row, else seats.default_tier; idle_monthly_cost prices an idle seat
-- (NEVER_ACTIVATED or LAPSED) at its plan; idle_seat is 1/0 so a KPI can sum it into a count.
-- A member of two seat groups holds one seat: one row, seat_group = the first group by name.
-- Active days come from the facts job's user_active_days (facts/), the rows of user_days, so a full refresh reads
-- two small columns, not every line.
CREATE OR REPLACE VIEW ${database}.seat_utilisation AS
WITH roster AS (
    SELECT
        regexp_replace(replace(trim(userid), '"', ''), '^d-[0-9A-Za-z]+[.]', '') AS userid,
        NULLIF(trim(seat_group), '') AS seat_group,
        TRY_CAST(trim(roster_date) AS DATE) AS roster_date
    FROM ${database}.seat_roster
),
holders AS (
    SELECT
        userid,
        min(seat_group) AS seat_group,
        min(roster_date) AS first_rostered
    FROM roster
    WHERE userid <> ''
    GROUP BY userid
),
data_end AS (
    SELECT max(activity_date) AS last_day
    FROM ${database}.user_active_days
),
activity AS (
    SELECT
        d.userid,
        min(d.activity_date) AS first_active,
        max(d.activity_date) AS last_active,
        count(DISTINCT CASE
            WHEN date_diff('day', d.activity_date, e.last_day) < ${seat_idle_after_days} THEN d.activity_date
        END) AS active_days_30
    FROM ${database}.user_active_days AS d
    CROSS JOIN data_end AS e
    GROUP BY d.userid
),
classified AS (
    SELECT
        h.userid,
        COALESCE(n.username, h.userid) AS username,
        h.seat_group,
        h.first_rostered,
        a.first_active,
        a.last_active,
        COALESCE(a.active_days_30, 0) AS active_days_30,
        CASE
            WHEN COALESCE(a.active_days_30, 0) > 0 THEN 'ACTIVE'
            WHEN date_diff('day', h.first_rostered, e.last_day) < ${seat_grace_days}
                AND (a.last_active IS NULL OR a.last_active < h.first_rostered) THEN 'NEW'
            WHEN a.last_active IS NULL THEN 'NEVER_ACTIVATED'
            ELSE 'LAPSED'
        END AS status,
        COALESCE(s.subscription_tier, '${seat_default_tier}') AS tier
    FROM holders AS h
    CROSS JOIN data_end AS e
    LEFT JOIN activity AS a ON a.userid = h.userid
    LEFT JOIN ${database}.user_current_tier AS s ON s.userid = h.userid
    LEFT JOIN ${database}.user_names AS n ON n.userid = h.userid
)
SELECT
    c.userid,
    c.username,
    c.seat_group,
    c.first_rostered,
    c.first_active,
    c.last_active,
    c.active_days_30,
    c.status,
    c.tier,
    p.monthly_price,
    CASE WHEN c.status IN ('NEVER_ACTIVATED', 'LAPSED') THEN COALESCE(p.monthly_price, 0) ELSE 0 END
        AS idle_monthly_cost,
    CASE WHEN c.status IN ('NEVER_ACTIVATED', 'LAPSED') THEN 1 ELSE 0 END AS idle_seat
FROM classified AS c
LEFT JOIN ${database}.plan_tiers AS p ON p.subscription_tier = c.tier
