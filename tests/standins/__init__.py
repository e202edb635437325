"""Strict stand-ins for what moto lacks: each validates requests against the botocore service model and answers
in the service's own shapes, so a test cannot pass on a request the real service would reject.

- cloudformation.py: AWS::Glue::Database, AWS::Glue::Crawler and AWS::Athena::WorkGroup for moto's CloudFormation
  (moto otherwise skips them silently while reporting CREATE_COMPLETE).
- athena.py: DDL that Athena would apply to the Glue catalog (tables, views) and answers to known SELECTs.
- glue.py: crawl outcomes (success, failure with the crawler's own ErrorMessage) and the real LastCrawl.Status enum.
"""
