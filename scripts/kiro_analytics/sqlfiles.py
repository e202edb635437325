"""Load the Athena SQL in sql/ as rendered objects, views in the order their text requires.

Shared by the AWS deploy (step 5) and the local engine, so it imports neither sqlglot nor duckdb.
Config values reach SQL only through placeholders (see templating.py).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Set, Tuple

from .config import FREE_TIER, Config
from .errors import InputError
from .facts import FactSources
from .names import FACTS_FOLDER, FACTS_STATE_KEY, Names
from .seat_roster import seat_roster_key
from .tables import parse_table_ddl
from .templating import render

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# The statement each file must open with; (?i) first keeps these patterns from reading as SQL text.
_CREATE_RE = {
    "table": re.compile(r"(?i)CREATE\s+EXTERNAL\s+TABLE\s+IF\s+NOT\s+EXISTS\s+\$\{database\}\.([a-z_][a-z0-9_]*)"),
    "view": re.compile(r"(?i)CREATE\s+OR\s+REPLACE\s+VIEW\s+\$\{database\}\.([a-z_][a-z0-9_]*)"),
    "fact": re.compile(r"(?i)CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+\$\{database\}\.([a-z_][a-z0-9_]*)"),
}
FACTS_DIR = "facts"
# What a fact table's load and delete files must do, to the table named like the file.
_FACT_STATEMENTS = {
    "load": re.compile(r"(?i)INSERT\s+INTO\s+\$\{database\}\.([a-z_][a-z0-9_]*)\s*\("),
    "delete": re.compile(r"(?i)DELETE\s+FROM\s+\$\{database\}\.([a-z_][a-z0-9_]*)\s"),
}
_QUALIFIED_RE = re.compile(r"\$\{database\}\.([A-Za-z_][A-Za-z0-9_]*)")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SqlObject:
    name: str
    kind: str  # "table" | "view"
    path: Path
    sql: str  # rendered, ready for Athena
    reads: FrozenSet[str] = frozenset()  # a view's tables and views, from its file text (load_views fills it)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def sql_values(config: Config) -> Dict[str, str]:
    """Every placeholder value the SQL files may use, derived from config."""
    folder = posixpath.dirname(config.user_mapping_key.strip("/"))
    if not folder:
        # The mapping table's LOCATION is the key's folder; the bucket root would hold the reports too.
        raise InputError(f"{config.source_path or 'config'}: s3.user_mapping_key {config.user_mapping_key!r} "
                         "must be inside a folder, e.g. user-mapping/user_mapping.csv")
    tiers = sorted(config.tiers, key=lambda tier: tier.credits)
    # advisable: whether tier advice may recommend the tier; FREE only when plans.advise_free says so.
    rows = ", ".join(f"('{tier.code}', {_number(tier.credits)}, {_number(tier.price)}, {rank}, "
                     f"{_boolean(tier.overage)}, {_boolean(tier.code != FREE_TIER or config.advise_free)})"
                     for rank, tier in enumerate(tiers, start=1))
    return {
        "database": config.database,
        "bucket": config.bucket_name,
        "prefix": config.prefix,
        "account_id": config.account_id,
        "region": config.region,
        "user_mapping_prefix": folder + "/",
        "seat_roster_prefix": posixpath.dirname(seat_roster_key(config.user_mapping_key)) + "/",
        "seat_default_tier": config.seat_default_tier,
        "seat_grace_days": str(config.seat_grace_days),
        "seat_idle_after_days": str(config.seat_idle_after_days),
        "overage_price_per_credit": _number(config.overage_price_per_credit),
        "overage_reading": config.overage_reading,
        "plan_tier_rows": rows,
        "report_regions": ",".join(config.report_regions or (config.region,)),
        "first_report_day": config.first_report_day.replace("-", "/"),
        "facts_location": f"s3://{Names(config).results_bucket}/{FACTS_FOLDER}",
    }


def _load(kind: str, config: Config, sql_dir: Path) -> List[SqlObject]:
    folder = sql_dir / {"table": "tables", "view": "views", "fact": FACTS_DIR}[kind]
    # A fact table's .load.sql and .delete.sql sit beside its CREATE (fact_statements reads them).
    files = sorted(path for path in folder.glob("*.sql") if "." not in path.stem)
    if not files:
        raise InputError(f"{folder}: no .sql files found")
    values = sql_values(config)
    objects = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        match = _CREATE_RE[kind].search(text)
        if match is None or match.group(1) != path.stem:
            raise InputError(f"{path}: expected to define the {kind} ${{database}}.{path.stem} in the form "
                             "sql/README.md gives (one object per file, named like the file)")
        objects.append(SqlObject(name=path.stem, kind=kind, path=path, sql=render(text, values, str(path))))
    return objects


def load_tables(config: Config, sql_dir: Path = SQL_DIR) -> List[SqlObject]:
    """Rendered table DDL from sql/tables, one object per file, in file-name order (no dependencies)."""
    return _load("table", config, sql_dir)


def load_facts(config: Config, sql_dir: Path = SQL_DIR) -> List[SqlObject]:
    """Rendered CREATE TABLE (Iceberg) of every fact table in sql/facts, in file-name order."""
    return _load("fact", config, sql_dir)


def fact_statements(fact: SqlObject, config: Config, first: date, last: date) -> Dict[str, str]:
    """The fact table's delete and load statements for the day folders first .. last (inclusive), rendered."""
    if last < first:
        raise InputError(f"{fact.path}: day range {first} .. {last} is empty")
    values = {**sql_values(config), "first_day": first.strftime("%Y/%m/%d"), "last_day": last.strftime("%Y/%m/%d"),
              "first_date": first.isoformat(), "last_date": last.isoformat()}
    statements = {}
    for kind, pattern in _FACT_STATEMENTS.items():
        path = fact.path.with_name(f"{fact.name}.{kind}.sql")
        if not path.is_file():
            raise InputError(f"{fact.path}: {path.name} is missing (every fact table has a .load.sql and .delete.sql)")
        text = path.read_text(encoding="utf-8")
        match = pattern.search(text)
        if match is None or match.group(1) != fact.name:
            raise InputError(f"{path}: expected {kind} statement on ${{database}}.{fact.name}")
        statements[kind] = render(text, values, str(path))
    return statements


def fact_sources(config: Config) -> FactSources:
    """The raw tables' LOCATIONs (those with day partition projection, which the facts' load reads through
    report_lines), the projected regions and first day: what facts.refresh_facts lists in S3. The stack passes it
    to the Lambda as FACT_SOURCES."""
    specs = [parse_table_ddl(table.sql) for table in load_tables(config)]
    locations = tuple(spec.location for spec in specs
                      if dict(spec.table_parameters).get("projection.day.type") == "date")
    return FactSources(locations=locations, regions=tuple(config.report_regions or (config.region,)),
                       first_day=date.fromisoformat(config.first_report_day),
                       state=f"s3://{Names(config).results_bucket}/{FACTS_STATE_KEY}")


def build_order(views: List[SqlObject], facts: List[SqlObject]) -> List[SqlObject]:
    """Views (load_views order) and fact tables in one order of creation: each fact table after the views its load
    reads, each view after the fact tables it reads. The line facts' load reads the parse (report_lines); an
    aggregate's load (user_month_facts, ...) reads views over the line facts, and other views read the aggregate,
    so the order runs views, facts, views, aggregates, views. A fact table that can never be loaded (its load reads
    a view that needs it) raises InputError naming its file."""
    view_names = {view.name for view in views}
    fact_names = {fact.name for fact in facts}
    needs: Dict[str, Set[str]] = {view.name: set(view.reads & (view_names | fact_names)) for view in views}
    for fact in facts:
        needs[fact.name] = fact_load_reads(fact, views)
    ordered: List[SqlObject] = []
    done: Set[str] = set()
    pending_views, pending_facts = list(views), list(facts)
    while pending_views or pending_facts:
        # Every view that can be created now, in their own order; else the first fact table that can be loaded.
        ready = [view for view in pending_views if needs[view.name] <= done]
        if not ready:
            ready = [fact for fact in pending_facts if needs[fact.name] <= done][:1]
        if not ready:
            stuck = (pending_facts or pending_views)[0]
            raise InputError(f"{stuck.path}: reads {', '.join(sorted(needs[stuck.name] - done))}, which cannot be "
                             "built before it (a fact table's load may not read a view over that table)")
        for item in ready:
            ordered.append(item)
            done.add(item.name)
        pending_views = [view for view in pending_views if view.name not in done]
        pending_facts = [fact for fact in pending_facts if fact.name not in done]
    return ordered


def split_at_facts(views: List[SqlObject], facts: List[SqlObject]) -> Tuple[List[SqlObject], List[SqlObject]]:
    """Views in dependency order, split in two: those that read no fact table (even through other views), which
    exist before the facts are loaded (the loads read report_lines), and those that do, created after."""
    after_names = {fact.name for fact in facts}
    before, after = [], []
    for view in views:  # dependency order: a view's readers come after it
        if view.reads & after_names:
            after_names.add(view.name)
            after.append(view)
        else:
            before.append(view)
    return before, after


def fact_load_reads(fact: SqlObject, views: List[SqlObject]) -> Set[str]:
    """The views a fact table's load statement reads (directly)."""
    text = fact.path.with_name(f"{fact.name}.load.sql").read_text(encoding="utf-8")
    return view_dependencies(text, fact.name, {view.name for view in views})


def _strip_comments_and_strings(text: str) -> str:
    text = re.sub(r"--[^\n]*", " ", text)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def view_dependencies(raw_text: str, own_name: str, known: Set[str]) -> Set[str]:
    """Objects a view's SQL names: every identifier equal to a known object name, plus every ${database}.x."""
    code = _strip_comments_and_strings(raw_text)
    named = {word for word in _IDENTIFIER_RE.findall(code.replace("${database}.", " ")) if word in known}
    qualified = set(_QUALIFIED_RE.findall(code))
    return (named | qualified) - {own_name}


def order_views(views: List[SqlObject], raw_texts: Mapping[str, str], tables: Mapping[str, Path]) -> List[SqlObject]:
    """Topological order from the SQL text, each view with its ``reads``; a missing object or a cycle raises
    InputError naming both files."""
    known = {view.name for view in views} | set(tables)
    by_name: Dict[str, SqlObject] = {}
    for view in views:
        deps = view_dependencies(raw_texts[view.name], view.name, known)
        for dep in sorted(deps):
            if dep not in known:
                missing = view.path.parent.parent / "tables" / f"{dep}.sql"
                raise InputError(f"{view.path}: reads {dep}, which is neither a view in {view.path.parent} "
                                 f"nor a table ({missing} does not exist)")
        by_name[view.name] = replace(view, reads=frozenset(deps))
    needs = {name: {dep for dep in view.reads if dep in by_name} for name, view in by_name.items()}
    ordered: List[SqlObject] = []
    done: Set[str] = set()
    while len(ordered) < len(views):
        ready = sorted(name for name in by_name if name not in done and needs[name] <= done)
        if not ready:
            stuck = sorted(name for name in by_name if name not in done)
            cycle = _find_cycle(stuck[0], needs, done)
            raise InputError(f"{by_name[cycle[0]].path} and {by_name[cycle[-1]].path} depend on each other "
                             f"(cycle: {' -> '.join([*cycle, cycle[0]])})")
        for name in ready:
            ordered.append(by_name[name])
            done.add(name)
    return ordered


def _find_cycle(start: str, needs: Mapping[str, Set[str]], done: Set[str]) -> List[str]:
    """Follow unfinished dependencies from start until a view repeats; return that cycle."""
    path: List[str] = [start]
    while True:
        nxt = sorted(needs[path[-1]] - done)[0]
        if nxt in path:
            return path[path.index(nxt):]
        path.append(nxt)


def load_views(config: Config, sql_dir: Path = SQL_DIR) -> List[SqlObject]:
    """Rendered view DDL from sql/views, ordered so every view comes after the views it reads."""
    views = _load("view", config, sql_dir)
    raw_texts = {view.name: view.path.read_text(encoding="utf-8") for view in views}
    tables = {path.stem: path for path in sorted((sql_dir / "tables").glob("*.sql"))}
    tables.update({path.stem: path for path in sorted((sql_dir / FACTS_DIR).glob("*.sql")) if "." not in path.stem})
    return order_views(views, raw_texts, tables)


def content_digests(config: Config, sql_dir: Path = SQL_DIR) -> Dict[str, str]:
    """sha256 per table and view of its rendered SQL and, for a view, of everything it reads, transitively.

    What a SPICE dataset holds changes when its view or anything upstream changes: step 7 compares this digest
    with the one it tagged the dataset with and refreshes the dataset when they differ.
    """
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    digests = {table.name: digest(table.sql) for table in load_tables(config, sql_dir)}
    facts = load_facts(config, sql_dir)
    fact_names = {fact.name for fact in facts}
    views = load_views(config, sql_dir)
    # Build order: what a fact table's load or a view reads is digested before it. A fact table holds what its load
    # computes: its digest covers the CREATE, the load's text and what the load reads (an aggregate reads views).
    for item in build_order(views, facts):
        if item.name in fact_names:
            load = item.path.with_name(f"{item.name}.load.sql").read_text(encoding="utf-8")
            reads = fact_load_reads(item, views)
            digests[item.name] = digest(item.sql + load + "".join(digests[name] for name in sorted(reads)
                                                                  if name in digests))
        else:
            digests[item.name] = digest(item.sql + "".join(digests[name] for name in sorted(item.reads)
                                                           if name in digests))
    return digests
