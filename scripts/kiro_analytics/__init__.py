"""Kiro User Activity Analytics: the shared package behind deploy.sh and the numbered scripts.

Dependencies point one way: the AWS modules never import ``kiro_analytics.local`` (DuckDB, sqlglot),
and ``kiro_analytics.local`` never imports boto3.
"""

__version__ = "0.1.0"
