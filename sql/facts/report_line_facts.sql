-- Facts: every non-blank line of every report file (user_report and both legacy sources), parsed ONCE by
-- views/report_lines.sql when its day folder is loaded, typed: 'header' lines carry their file's header,
-- 'rejected' lines their reject_reason, 'valid' lines every figure (the 44 legacy metrics, the user_report fields,
-- the <model>_messages cells in long form as two parallel arrays). Which valid line of a key counts (re-sent
-- exports) is decided over all loaded days by views/report_line_status.sql, so loading a day never needs another.
-- The raw tables stay the source of truth: the facts can always be rebuilt from them (step 5 --rebuild-facts).
-- An Iceberg table (Athena engine 3: CREATE TABLE ... TBLPROPERTIES ('table_type'='ICEBERG'), then DELETE and
-- INSERT INTO; https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-creating-tables.html), partitioned by
-- source_day, the day folder a file sits in, which is what a load replaces: a re-sent export lands in the day
-- folder of the day it reports (.../YYYY/MM/DD/00/), so reloading that day replaces its facts. Its data lives in the
-- stack's results bucket under facts/ (outside the expiring athena/ prefix); destroy.sh removes it.
-- Snapshots are kept 3 days (vacuum_max_snapshot_age_seconds, default 5; VACUUM after each load expires older ones
-- and removes orphan files older than that, https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html):
-- nothing reads old snapshots (the raw files are the source of truth), and no write runs for days, so the orphan
-- removal never meets a file a running load is still writing.
CREATE TABLE IF NOT EXISTS ${database}.report_line_facts (
    family string,
    source_rank int,
    source_day date,
    source_path string,
    region string,
    export_stamp string,
    line_status string,
    reject_reason string,
    header_text string,
    header_columns int,
    model_names array<string>,
    model_messages array<bigint>,
    activity_date date,
    userid string,
    client_type string,
    subscription_tier string,
    chat_conversations bigint,
    credits_used double,
    overage_cap double,
    overage_credits_used double,
    overage_enabled boolean,
    total_messages bigint,
    new_user boolean,
    user_email string,
    usage_limit double,
    chat_aicodelines int,
    chat_messagesinteracted int,
    chat_messagessent int,
    codefix_acceptanceeventcount int,
    codefix_acceptedlines int,
    codefix_generatedlines int,
    codefix_generationeventcount int,
    codereview_failedeventcount int,
    codereview_findingscount int,
    codereview_succeededeventcount int,
    dev_acceptanceeventcount int,
    dev_acceptedlines int,
    dev_generatedlines int,
    dev_generationeventcount int,
    docgeneration_acceptedfileupdates int,
    docgeneration_acceptedfilescreations int,
    docgeneration_acceptedlineadditions int,
    docgeneration_acceptedlineupdates int,
    docgeneration_eventcount int,
    docgeneration_rejectedfilecreations int,
    docgeneration_rejectedfileupdates int,
    docgeneration_rejectedlineadditions int,
    docgeneration_rejectedlineupdates int,
    inlinechat_acceptanceeventcount int,
    inlinechat_acceptedlineadditions int,
    inlinechat_acceptedlinedeletions int,
    inlinechat_dismissaleventcount int,
    inlinechat_dismissedlineadditions int,
    inlinechat_dismissedlinedeletions int,
    inlinechat_rejectedlineadditions int,
    inlinechat_rejectedlinedeletions int,
    inlinechat_rejectioneventcount int,
    inlinechat_totaleventcount int,
    inline_aicodelines int,
    inline_acceptancecount int,
    inline_suggestionscount int,
    testgeneration_acceptedlines int,
    testgeneration_acceptedtests int,
    testgeneration_eventcount int,
    testgeneration_generatedlines int,
    testgeneration_generatedtests int,
    transformation_eventcount int,
    transformation_linesgenerated int,
    transformation_linesingested int
)
PARTITIONED BY (source_day)
LOCATION '${facts_location}report_line_facts/'
TBLPROPERTIES (
    'table_type' = 'ICEBERG',
    'format' = 'parquet',
    'write_compression' = 'zstd',
    'vacuum_max_snapshot_age_seconds' = '259200'
)
