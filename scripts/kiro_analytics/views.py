"""Step 5: create or replace every view in dependency order through pyathena, skipping views already up to date.

A view's stored definition is the Presto view text Athena keeps in the Glue table (ViewOriginalText, a base64 JSON
whose originalSql is the text after AS). Equal text (whitespace aside) means "unchanged" and no query is run, unless
a table the view reads was created or changed after the view was stored: step 1 recreates a table whose DDL changed,
and Athena reports a view over a table modified after the view was created as stale until it is re-created
(https://repost.aws/knowledge-center/athena-view-is-stale-error). The catalog's own timestamps tell, so a step 5
run on its own, later, still notices.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Set

from .athena import run_query
from .cli import StepContext
from .errors import InputError
from .facts import LINE_FACTS, aggregate_names, fact_drop, refresh_facts, reload_aggregates, reload_aggregates_months
from .lakeformation import grant_missing
from .request_validation import validate_request
from .sqlfiles import fact_load_reads, fact_sources, load_facts, load_views, split_at_facts
from .tables import current_table

log = logging.getLogger(__name__)

_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+\S+\s+AS\s+(.*?)\s*;?\s*$", re.I | re.S)
_LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*\n)*\s*")
_PRESTO = re.compile(r"/\*\s*Presto View:\s*(\S+)\s*\*/")


def _normalise(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


def view_body(sql: str) -> str:
    match = _VIEW.match(sql, _LEADING_COMMENTS.match(sql).end())
    if not match:
        raise InputError(f"not a CREATE OR REPLACE VIEW statement: {sql[:80]!r}")
    return match.group(1)


def stored_body(table: Dict[str, Any]) -> Optional[str]:
    """The SQL a stored Athena view was created from, or None if it is not an Athena view."""
    match = _PRESTO.search(table.get("ViewOriginalText") or "")
    if table.get("TableType") != "VIRTUAL_VIEW" or not match:
        return None
    try:
        return json.loads(base64.b64decode(match.group(1)).decode("utf-8")).get("originalSql")
    except (ValueError, UnicodeDecodeError):
        return None


def _stamp(table: Dict[str, Any]) -> Optional[Any]:
    """When Glue last created or changed this table or view (UpdateTime is absent until the first change)."""
    times = [table[key] for key in ("CreateTime", "UpdateTime") if table.get(key) is not None]
    return max(times) if times else None


def _tables_newer_than(glue: Any, database: str, view: Any, stored_at: Optional[Any], views: Set[str]) -> List[str]:
    """The tables (not views: those are tracked by ``changed``) a view reads that changed after it was stored."""
    if stored_at is None:
        return []
    newer = []
    for name in sorted(view.reads - views):
        table = current_table(glue, database, name)
        stamp = None if table is None else _stamp(table)
        if stamp is not None and stamp >= stored_at:
            newer.append(name)
    return newer


def apply_views(glue: Any, athena: Any, recorder: Any, views: List[Any], database: str, workgroup: str,
                execute: Optional[Callable[[str], None]] = None,
                before_facts: Optional[Callable[[], Set[str]]] = None, fact_readers: Set[str] = frozenset()
                ) -> Dict[str, str]:
    """Returns view name → created | replaced | unchanged (| planned under --dry-run), in the order applied.

    ``execute`` runs one statement (pyathena cursor.execute in step 5); under --dry-run the request is recorded.
    A view whose dependency changed is replaced as well: Athena views go stale when what they read changes.
    ``views`` come from sqlfiles.load_views (in dependency order, each with its ``reads``).
    ``before_facts`` runs once, before the first view of ``fact_readers`` (those that read a fact table): it creates
    and loads the facts (whose load reads the views before it) and returns the fact tables it created or replaced,
    so their readers are replaced too.
    """
    outcome: Dict[str, str] = {}
    changed: set = set()
    view_names = {view.name for view in views}
    facts_done = before_facts is None
    for view in views:
        if not facts_done and view.name in fact_readers:
            changed |= before_facts()  # type: ignore[misc]
            facts_done = True
        body = view_body(view.sql)
        table = current_table(glue, database, view.name)
        stored = None if table is None else stored_body(table)
        if stored is not None and _normalise(stored) == _normalise(body) and not view.reads & changed:
            newer = _tables_newer_than(glue, database, view, _stamp(table), view_names)  # type: ignore[arg-type]
            if not newer:
                outcome[view.name] = "unchanged"
                continue
            log.info("view %s: replaced because %s changed after it", view.name, ", ".join(newer))
        params = {"QueryString": view.sql, "WorkGroup": workgroup, "QueryExecutionContext": {"Database": database}}
        if recorder.dry_run or execute is None:
            recorder.call(athena, "StartQueryExecution", **params)
        else:
            validate_request("athena", "StartQueryExecution", params)
            execute(view.sql)
        changed.add(view.name)
        outcome[view.name] = "planned" if recorder.dry_run else ("created" if stored is None else "replaced")
    return outcome


def pyathena_executor(session: Any, region: str, workgroup: str, database: str) -> Callable[[str], None]:
    """One pyathena cursor on the workgroup (which enforces its own result location); Athena errors propagate."""
    from pyathena import connect

    cursor = connect(session=session, region_name=region, work_group=workgroup, schema_name=database).cursor()
    return lambda sql: cursor.execute(sql)


def deploy(ctx: StepContext) -> str:
    """The whole of step 5: the views, then their Lake Formation grants; returns the step's result line."""
    config, clients = ctx.config, ctx.clients
    execute = None if ctx.dry_run else pyathena_executor(clients.session, config.region, config.workgroup,
                                                         config.database)
    views, facts = load_views(config), load_facts(config)
    # Still a dependency order: what the facts' load reads first, then the views over the facts.
    before, readers = split_at_facts(views, facts)
    views = before + readers
    glue, athena = clients.client("glue"), clients.client("athena")
    loaded: List[str] = []
    touched: List[date] = []
    created_facts: Set[str] = set()

    def before_facts() -> Set[str]:
        # The facts' loads read report_lines, created above; every view below reads the facts.
        created = ensure_facts(glue, athena, ctx.recorder.call, facts, config.database, config.workgroup)
        # The aggregates' loads read views created below: they are reloaded after them (reload_aggregates).
        refresh = refresh_facts(athena, clients.client("s3"), config.database, config.workgroup,
                                fact_sources(config), today, call=ctx.recorder.call, with_aggregates=False)
        loaded.append(refresh.summary())
        touched.extend(refresh.months_touched)
        changed = {name for name, state in created.items() if state != "unchanged"}
        created_facts.update(changed)
        return changed

    today = datetime.now(timezone.utc).date()
    result = apply_views(glue, athena, ctx.recorder, views, config.database, config.workgroup, execute,
                         before_facts, {view.name for view in readers})
    loaded.append(_reload_aggregates(ctx, athena, views, facts, result, created_facts, touched, today))
    # Views exist only from here on, so their Lake Formation SELECT grants (when LF governs) follow them here.
    grants = grant_missing(clients.client("lakeformation"), clients.client("sts"), clients.client("glue"),
                           ctx.recorder, config, ctx.names, clients.client("iam"))
    counts = {state: sum(1 for s in result.values() if s == state) for state in sorted(set(result.values()))}
    grant_note = f"; Lake Formation: {len(grants.granted)} grant(s) added" if grants.in_charge else ""
    return (f"{len(result)} view(s): " + ", ".join(f"{n} {state}" for state, n in counts.items())
            + "".join(f"; {line}" for line in loaded) + grant_note)


def _reload_aggregates(ctx: StepContext, athena: Any, views: List[Any], facts: List[Any], outcome: Dict[str, str],
                       created_facts: Set[str], touched: List[date], today: date) -> str:
    """After the views: reload the aggregate facts where they may be stale. Every month when an aggregate was
    created or replaced, or a view its load reads (directly or through others) was: they hold what those views
    compute with this config (plans.tiers, plans.overage_reading). Else the months the day folders loaded above
    touch. Else nothing (a rerun changes nothing)."""
    config = ctx.config
    by_name = {view.name: view for view in views}
    aggregates = [fact for fact in facts if fact.name in aggregate_names()]
    upstream: Set[str] = set()
    pending = [name for fact in aggregates for name in fact_load_reads(fact, views)]
    while pending:
        name = pending.pop()
        if name in by_name and name not in upstream:
            upstream.add(name)
            pending.extend(by_name[name].reads)
    stale = sorted(({fact.name for fact in aggregates} & created_facts)
                   | {name for name in upstream if outcome.get(name, "unchanged") != "unchanged"})
    if stale:
        months = reload_aggregates(athena, config.database, config.workgroup,
                                   date.fromisoformat(config.first_report_day), today, call=ctx.recorder.call)
        return f"aggregates: every month reloaded ({len(months)} range(s); {', '.join(stale[:3])} changed)"
    if touched:
        months = reload_aggregates_months(athena, config.database, config.workgroup, touched,
                                          call=ctx.recorder.call)
        return f"aggregates: {len(months)} month range(s) reloaded"
    return "aggregates: unchanged"


def ensure_facts(glue: Any, athena: Any, call: Any, facts: List[Any], database: str, workgroup: str) -> Dict[str, str]:
    """Create each missing fact table (Iceberg); one whose columns differ from its file is dropped first (Athena's
    DROP TABLE of an Iceberg table removes its data too,
    https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-drop-table.html) and then fully reloaded, as
    refresh_facts finds no day loaded. The line facts (facts.LINE_FACTS) are loaded together, day by day, and
    refresh_facts tells which days are loaded from report_line_facts alone: when one of them is created or replaced,
    the others are dropped and created too ("replaced (line facts reloaded)"), so every day is loaded into all of
    them. Returns name -> created | replaced (...) | unchanged."""
    outcome: Dict[str, str] = {}
    for fact in facts:
        table = current_table(glue, database, fact.name)
        if table is None:
            outcome[fact.name] = "created"
            continue
        wanted = [(name, kind.lower()) for name, kind in _fact_columns(fact.sql)]
        columns = table.get("StorageDescriptor", {}).get("Columns", [])
        have = [(c["Name"].lower(), c["Type"].lower()) for c in columns]
        outcome[fact.name] = "unchanged" if have == wanted else "replaced (columns changed)"
    lines = [fact.name for fact in facts if fact.name in LINE_FACTS]
    if any(outcome[name] != "unchanged" for name in lines):
        for name in lines:
            if outcome[name] == "unchanged":
                outcome[name] = "replaced (line facts reloaded)"
    for fact in facts:
        if outcome[fact.name] == "unchanged":
            continue
        if outcome[fact.name] != "created":
            run_query(athena, fact_drop(fact.name, database), workgroup, database, f"drop {fact.name}", call=call)
        run_query(athena, fact.sql.strip(), workgroup, database, f"fact table {fact.name}", call=call)
    return outcome


_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS \S+ \(", re.M)
_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+([a-z]+(?:<[a-z<>, ]+>)?),?\s*$", re.M)


def _fact_columns(sql: str) -> List[tuple]:
    """(name, type) of a fact table's CREATE, in order (the lines between its parentheses)."""
    start = _CREATE_TABLE.search(sql)
    if start is None:
        raise InputError("a fact table's file must hold CREATE TABLE IF NOT EXISTS <database>.<name> (")
    body = sql[start.end():sql.index("\n)", start.end())]
    return _COLUMN.findall(body)
