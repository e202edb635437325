-- After a load: expire old snapshots and remove orphan files (https://docs.aws.amazon.com/athena/latest/ug/vacuum-statement.html).
VACUUM ${database}.model_message_facts
