-- Weekly digest: seat holders in the roster (seats.groups), the idle ones (never activated or lapsed, as of the
-- data's last day) and what the idle seats cost a month. seats = 0 means no roster: the digest leaves seats out.
SELECT
    count(*) AS seats,
    COALESCE(sum(idle_seat), 0) AS idle_seats,
    COALESCE(sum(CASE WHEN status = 'NEVER_ACTIVATED' THEN 1 ELSE 0 END), 0) AS never_activated,
    COALESCE(sum(idle_monthly_cost), 0) AS idle_monthly_cost
FROM seat_utilisation
