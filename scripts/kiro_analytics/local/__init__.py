"""Local mode: build the same tables, views and dashboard from a folder of reports, without AWS."""
