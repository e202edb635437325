"""The user map keeps every character of a name: sync writer → file → the local engine's user_mapping, and the
escape character the Athena table declares can never occur in what the sync writes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List

import duckdb
import pytest
from kiro_analytics.identity_sync import MAPPING_HEADER, parse_mapping, render_mapping
from kiro_analytics.local import engine, sample_data
from kiro_analytics.sqlfiles import load_tables
from kiro_analytics.tables import parse_table_ddl
from kiro_analytics.user_csv import clean_field

NAMES = {
    "00000000-0000-4000-8000-000000000001": 'DOMAIN\\ann "the" O\'Brien, Jr. 李小龙',
    "00000000-0000-4000-8000-000000000002": "ends with a backslash \\",
    "00000000-0000-4000-8000-000000000003": '\\"quoted\\" ,,, 张伟, 🚀',
    "00000000-0000-4000-8000-000000000004": "tab\tkept, \x01control\x02 dropped",
}


def _mapping_table(config):
    return next(table for table in load_tables(config) if table.name == "user_mapping")


def opencsv_fields(line: str, separator: str, quote: str, escape: str) -> List[str]:
    """How OpenCSVSerde (opencsv 2.3's CSVParser) splits one line, for fields quoted whole as csv.writer does:
    escape + (quote | escape) gives that character, an escape before anything else is dropped; a doubled quote
    inside quotes is one quote."""
    fields, current, in_quotes, index = [], [], False, 0
    while index < len(line):
        char = line[index]
        following = line[index + 1] if index + 1 < len(line) else ""
        if char == escape:
            if in_quotes and following in (quote, escape):
                current.append(following)
                index += 1
        elif char == quote:
            if in_quotes and following == quote:
                current.append(quote)
                index += 1
            else:
                in_quotes = not in_quotes
        elif char == separator and not in_quotes:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    fields.append("".join(current))
    return fields


def _rows():
    return [{"userid": user_id, "username": name, "user_name": f"u{index}", "email": f"u{index}@example.com",
             "groups": "Platform;Data, Science"} for index, (user_id, name) in enumerate(NAMES.items())]


def test_the_tables_escape_character_is_one_the_sync_never_writes(config):
    serde = dict(parse_table_ddl(_mapping_table(config).sql).serde_parameters)
    escape = serde["escapeChar"]
    assert escape == "\x01"
    assert escape != "\\" and escape != serde["quoteChar"] and escape != serde["separatorChar"]
    assert escape not in clean_field(f"a{escape}b{escape}")
    assert escape.encode() not in render_mapping(_rows())


def test_athena_reads_every_name_exactly(config):
    """With the declared SerDe settings every field reads back exactly; with a backslash escape it would not."""
    serde = dict(parse_table_ddl(_mapping_table(config).sql).serde_parameters)
    lines = render_mapping(_rows()).decode("utf-8").split("\r\n")
    assert lines[0] == ",".join(MAPPING_HEADER) and lines[-1] == ""
    read = [opencsv_fields(line, serde["separatorChar"], serde["quoteChar"], serde["escapeChar"])
            for line in lines[1:-1]]
    assert {fields[0]: fields[1] for fields in read} == {user_id: clean_field(name) for user_id, name in NAMES.items()}
    assert all(fields[4] == "Platform;Data, Science" for fields in read)
    # The bug this replaces: a backslash escape loses the backslash of DOMAIN\ann.
    broken = opencsv_fields(lines[1], ",", '"', "\\")
    assert broken[1] == 'DOMAINann "the" O\'Brien, Jr. 李小龙'


def test_round_trip_sync_writer_to_local_engine(config, tmp_path: Path):
    body = render_mapping(_rows())
    assert parse_mapping(body)["00000000-0000-4000-8000-000000000001"]["username"] == NAMES[
        "00000000-0000-4000-8000-000000000001"]
    users_csv = tmp_path / "user_mapping.csv"
    users_csv.write_bytes(body)
    sample_data.generate(tmp_path / "data", users=2, days=2)
    result = engine.build(tmp_path / "data", tmp_path / "out", config, users_csv)

    with duckdb.connect(str(result.db_path), read_only=True) as con:
        stored = dict(con.execute("SELECT userid, username FROM user_mapping").fetchall())
        groups = {row[0] for row in con.execute("SELECT groups FROM user_mapping").fetchall()}
    assert stored == {user_id: clean_field(name) for user_id, name in NAMES.items()}
    assert stored["00000000-0000-4000-8000-000000000001"] == 'DOMAIN\\ann "the" O\'Brien, Jr. 李小龙'
    assert stored["00000000-0000-4000-8000-000000000002"] == "ends with a backslash \\"
    assert stored["00000000-0000-4000-8000-000000000004"] == "tab\tkept, control dropped"
    assert groups == {"Platform;Data, Science"}


@pytest.mark.parametrize("raw, cleaned", [("a\x00b", "ab"), ("a\x1fb\x7f", "ab"), ("line\r\nbreak", "line break"),
                                          ("  tab\there ", "tab\there"), ("DOMAIN\\x", "DOMAIN\\x")])
def test_clean_field(raw: str, cleaned: str):
    assert clean_field(raw) == cleaned


def test_local_engine_reads_the_map_with_the_serde_settings_the_table_declares(config, tmp_path: Path):
    """Local and Athena agree because the engine takes its CSV settings from the DDL: with the old backslash
    escape it would lose the backslash just as Athena did."""
    users_csv = tmp_path / "user_mapping.csv"
    users_csv.write_bytes(render_mapping(_rows()))
    table = _mapping_table(config)
    old = dataclasses.replace(table, sql=table.sql.replace("'\\u0001'", "'\\\\'"))
    assert dict(parse_table_ddl(old.sql).serde_parameters)["escapeChar"] == "\\"
    for ddl, expected in ((table, NAMES["00000000-0000-4000-8000-000000000001"]),
                          (old, 'DOMAINann "the" O\'Brien, Jr. 李小龙')):
        con = duckdb.connect()
        assert engine._load_mapping(con, ddl, users_csv, tmp_path) == len(NAMES)
        assert con.execute("SELECT username FROM user_mapping WHERE userid LIKE '%1'").fetchone()[0] == expected
        con.close()
