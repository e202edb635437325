-- ./deploy.sh --verify: messages per activity day and model (see crosscheck_daily.sql). One row per (day, model).
SELECT
    activity_date,
    model,
    sum(messages) AS messages
FROM model_usage_daily
GROUP BY activity_date, model
