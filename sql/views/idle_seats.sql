-- Dashboard: the idle seats of seat_utilisation (NEVER_ACTIVATED or LAPSED), as a view so both renderers show
-- the same rows without a dashboard filter.
CREATE OR REPLACE VIEW ${database}.idle_seats AS
SELECT
    userid,
    username,
    seat_group,
    status,
    tier,
    first_rostered,
    last_active,
    idle_monthly_cost
FROM ${database}.seat_utilisation
WHERE idle_seat = 1
