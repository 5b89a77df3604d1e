"""Database sources: a mapping source read from a SQL database instead of a file.

A CRM synced into a database or warehouse (Fivetran, Airbyte, dlt into PostgreSQL, DuckDB, …) is read where it
is, with a SQLAlchemy URL and either a table or the analyst's own query::

    sources:
      contacts: {connection: "postgresql+psycopg://${PGUSER}:${PGPASSWORD}@${PGHOST}/crm", table: hubspot.contact}
      deal_contacts:
        connection: "duckdb:///warehouse.duckdb"
        sql: SELECT deal_id, MIN(contact_id) AS contact_id FROM hubspot.deal_contact GROUP BY deal_id

* **Credentials** come from the environment: ``${NAME}`` in the URL is replaced by the variable ``NAME``
  (nothing else is expanded, and nothing from the data or the query); the URL is shown with its password
  (and any ``password``/``token``/``secret``/``key`` query value) as ``***`` in every message and in the
  import report, and the secrets are scrubbed from the database's own error messages.
* ``table:`` (``name`` or ``schema.name``; double quotes around a part that holds a dot) selects only the
  columns the mapping names for that source, quoted by SQLAlchemy — a name is never pasted into SQL — in the
  order of ``order_by:`` (columns; default: every selected column), so the same table imports the same way
  every time. ``sql:`` is one ``SELECT`` (or ``WITH … SELECT``) statement, run as written.
* Connections are **read-only** where the driver allows it (PostgreSQL: a read-only transaction; DuckDB: the
  file opened read-only, never created, with external access off — a query cannot read other files or URLs). Rows are fetched in chunks of ``chunk_rows:`` (default 50,000;
  a server-side cursor on PostgreSQL).
* Values become text as a CSV export would hold them (the mapping's rules then read them like a file's):
  timestamps ISO 8601, those with a time zone converted to UTC; numbers as written; booleans
  ``true``/``false``; blank text empty. Row numbers in messages count the rows of the result (1 = first).

A connection that fails, a table that does not exist or a query that fails is one
:class:`~salesaudit.errors.DataContractError` line naming the mapping, the source and the masked URL.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from salesaudit.data.importers.reading import ReadLog
from salesaudit.errors import DataContractError

__all__ = [
    "CHUNK_ROWS",
    "Connection",
    "DatabaseRead",
    "connection_url",
    "database_sources",
    "is_database_source",
    "mapped_columns",
    "one_statement",
    "read_database_sources",
    "table_name",
    "text_values",
]

CHUNK_ROWS = 50_000
SOURCE_KEYS = ("connection", "table", "sql", "order_by", "chunk_rows")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_QUERY = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z]+)")


def is_database_source(spec: Any) -> bool:
    """True for a mapping source given as ``{connection: URL, table: …}`` or ``{connection: URL, sql: …}``."""
    return isinstance(spec, dict) and "connection" in spec


def database_sources(mapping: dict) -> dict[str, dict]:
    """The mapping's database sources, by logical name (file patterns left out)."""
    return {k: v for k, v in (mapping.get("sources") or {}).items() if is_database_source(v)}


# --------------------------------------------------------------------------------------------------
# connection URLs: ${ENV} expansion and masking
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Connection:
    """A SQLAlchemy URL with its environment variables expanded, how to show it, and what to hide."""

    url: Any  # sqlalchemy.engine.URL
    shown: str
    secrets: tuple[str, ...] = ()

    def scrub(self, text: str) -> str:
        """``text`` with every secret (the password, secret query values, raw and URL-quoted) as ``***``."""
        for s in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(s, "***")
        return text


def connection_url(template: Any, where: str, environ: Mapping[str, str] | None = None) -> Connection:
    """Parse a connection URL, replacing each ``${NAME}`` by the environment variable ``NAME``.

    A value replacing a variable in the user or password part is URL-quoted (a password may hold ``@`` or
    ``/``); elsewhere (host, port, database path, query) it is inserted as it is. An unset variable, or text
    that is not a URL, raises :class:`DataContractError` naming ``where`` (never the values).

    >>> c = connection_url("postgresql+psycopg://${U}:${P}@db/crm", "m.yaml: sources.x", {"U": "ann", "P": "s/3@"})
    >>> c.url.password, c.shown
    ('s/3@', 'postgresql+psycopg://ann:***@db/crm')
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    env = os.environ if environ is None else environ
    if not isinstance(template, str) or not template.strip():
        raise DataContractError(f"{where}.connection: a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")
    template = template.strip()
    missing = sorted({n for n in _ENV.findall(template) if n not in env})
    if missing:
        raise DataContractError(
            f"{where}.connection: environment variable(s) not set: {', '.join(missing)} (export them before the import)"
        )
    scheme_end = template.find("://")
    authority = template[scheme_end + 3 :].split("/", 1)[0] if scheme_end >= 0 else ""
    userinfo_end = scheme_end + 3 + authority.rindex("@") if "@" in authority else -1
    quoted: list[str] = []

    def expand(m: re.Match) -> str:
        value = env[m.group(1)]
        if m.start() < userinfo_end:
            quoted.append(quote(value, safe=""))
            return quote(value, safe="")
        return value

    text = _ENV.sub(expand, template)
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise DataContractError(
            f"{where}.connection: not a SQLAlchemy URL (expected e.g. postgresql+psycopg://user@host/db "
            f"or duckdb:///file.duckdb): {_mask_text(template)}"
        ) from None
    secrets = {url.password} if url.password else set()
    query = {}
    for k, v in url.query.items():
        if _SECRET_QUERY.search(k):
            secrets |= set(v) if isinstance(v, tuple) else {v}
            query[k] = "MASKEDVALUE"
        else:
            query[k] = v
    secrets |= {quote(s, safe="") for s in secrets}
    shown = url.set(query=query).render_as_string(hide_password=True).replace("MASKEDVALUE", "***")
    return Connection(url, shown, tuple(s for s in secrets if s))


def _mask_text(template: str) -> str:
    """A URL that did not parse, with whatever stands between ``user:`` and ``@`` masked."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", template)


# --------------------------------------------------------------------------------------------------
# what to read: table names, the analyst's query, the columns the mapping names
# --------------------------------------------------------------------------------------------------
def table_name(text: Any, where: str) -> tuple[str | None, str]:
    """``(schema, table)`` of ``table: name`` / ``schema.name``; a part in double quotes may hold dots.

    >>> table_name('hubspot.contact', 'm')
    ('hubspot', 'contact')
    >>> table_name('"my.schema".Deals', 'm')
    ('my.schema', 'Deals')
    """
    if not isinstance(text, str) or not text.strip():
        raise DataContractError(f"{where}.table: a table name, e.g. hubspot.contact")
    parts, cur, quoted, i, s = [], "", False, 0, text.strip()
    while i < len(s):
        ch = s[i]
        if ch == '"':
            if quoted and i + 1 < len(s) and s[i + 1] == '"':
                cur, i = cur + '"', i + 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    if quoted or len(parts) > 2 or any(not p for p in parts):
        raise DataContractError(f"{where}.table: {text!r} is not a table name (name or schema.name)")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def one_statement(sql: Any, where: str) -> str:
    """The query without a trailing ``;``, when it is one ``SELECT`` or ``WITH`` statement.

    ``;`` inside quotes (``'…'``, ``"…"``, ``E'…'`` with backslash escapes, ``$tag$…$tag$``) and comments
    (``--``, ``/* */``) does not count; any other ``;`` followed by more than space or comments does.

    >>> one_statement("SELECT ';' AS x; -- done", "m")
    "SELECT ';' AS x"
    """
    if not isinstance(sql, str) or not sql.strip():
        raise DataContractError(f"{where}.sql: a SELECT query")
    s, i, n, ends = sql, 0, len(sql), []
    while i < n:
        ch = s[i]
        if s.startswith("--", i):
            j = s.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if s.startswith("/*", i):
            j = s.find("*/", i + 2)
            if j < 0:
                raise DataContractError(f"{where}.sql: a /* comment is not closed")
            i = j + 2
            continue
        if ch in "'\"`":
            backslash = ch == "'" and i > 0 and s[i - 1] in "eE"
            j = i + 1
            while j < n:
                if backslash and s[j] == "\\":
                    j += 2
                    continue
                if s[j] == ch:
                    if j + 1 < n and s[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise DataContractError(f"{where}.sql: a quote ({ch}) is not closed")
            i = j + 1
            continue
        m = re.match(r"\$([A-Za-z_]\w*)?\$", s[i:]) if ch == "$" else None
        if m:
            j = s.find(m.group(0), i + len(m.group(0)))
            if j < 0:
                raise DataContractError(f"{where}.sql: a {m.group(0)} quote is not closed")
            i = j + len(m.group(0))
            continue
        if ch == ";":
            ends.append(i)
        i += 1
    body = sql
    if ends:
        rest = re.sub(r"--[^\n]*|/\*.*?\*/|\s|;", "", sql[ends[0] :], flags=re.S)
        if rest:
            raise DataContractError(
                f"{where}.sql: one statement only (a ';' ends the first after {ends[0]:,} characters; "
                "a mapping never runs several)"
            )
        body = sql[: ends[0]]
    code = re.sub(r"--[^\n]*|/\*.*?\*/", " ", body, flags=re.S)
    first = _FIRST_WORD.match(code)
    if not first or first.group(1).lower() not in ("select", "with"):
        raise DataContractError(f"{where}.sql: must be a SELECT (or WITH … SELECT) query")
    return body.strip()


def _strings(node: Any) -> Iterator[str]:
    """Every text key and value in a nested mapping spec."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _expression_names(expr: Any) -> set[str]:
    """Backticked names and bare identifiers of a mapping expression (a superset of the columns it uses)."""
    if not isinstance(expr, str):
        return set()
    return {a or b for a, b in re.findall(r"`([^`]*)`|([A-Za-z_]\w*)", expr)}


def mapped_columns(mapping: dict, key: str) -> set[str] | None:
    """The names a mapping may use from source ``key``: None = every column (a join of it without
    ``columns:``, or no table uses it); else every text in the specs of the tables reading it, the names in
    their ``filter:``/``derived:`` expressions, its join keys and columns and ``products_from``."""
    names: set[str] = set()
    used = False
    for spec in (mapping.get("tables") or {}).values():
        if not isinstance(spec, dict):
            continue
        if spec.get("source") == key:
            used = True
            names |= set(_strings({k: v for k, v in spec.items() if k not in ("filter", "derived")}))
            for expr in [spec.get("filter"), *((spec.get("derived") or {}).values())]:
                names |= _expression_names(expr)
        for j in spec.get("join") or []:
            if isinstance(j, dict) and j.get("source") == key:
                if not j.get("columns"):
                    return None
                used = True
                names |= set(_strings(j))
    pf = (mapping.get("audit") or {}).get("products_from")
    if isinstance(pf, dict) and pf.get("source") == key:
        used = True
        names.add(str(pf.get("column")))
    return names if used else None


# --------------------------------------------------------------------------------------------------
# values → text
# --------------------------------------------------------------------------------------------------
def _text(v: Any) -> str | None:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return None if v != v else repr(v)
    if isinstance(v, Decimal):
        return None if v.is_nan() else format(v, "f")
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(timezone.utc).replace(tzinfo=None)
        return v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True, default=str, ensure_ascii=False)
    return str(v).strip() or None


def text_values(values: list[Any]) -> list[str | None]:
    """Database values as a CSV export holds them (module docstring); None for NULL and blank text.

    >>> from datetime import datetime, timedelta, timezone
    >>> text_values([3, Decimal("1500.00"), True, None, "  ", datetime(2026, 1, 5, 12, tzinfo=timezone(timedelta(hours=2)))])
    ['3', '1500.00', 'true', None, None, '2026-01-05 10:00:00']
    """
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return [None] * len(values)
    if kinds == {str}:
        return [(v.strip() or None) if v is not None else None for v in values]
    s = pd.Series(values, dtype=object)
    if kinds == {int}:
        return s.astype(str).astype(object).where(s.notna(), None).tolist()
    if kinds <= {datetime, pd.Timestamp}:  # vectorised: the formatting is the same as _text's
        aware = {v.tzinfo is not None for v in values if v is not None}
        try:
            if len(aware) == 1:
                stamps = pd.to_datetime(s, utc=True).dt.tz_localize(None) if aware == {True} else pd.to_datetime(s)
                if stamps.dt.microsecond.fillna(0).eq(0).all():  # fractions of a second: one by one, below
                    text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
                    return text.where(stamps.notna(), None).tolist()
        except (ValueError, OverflowError):  # e.g. year 1 or 9999 beyond pandas' range: one by one
            pass
    return [_text(v) for v in values]


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else exc.__class__.__name__


def _engine(conn: Connection, where: str):
    import sqlalchemy as sa

    backend = conn.url.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "duckdb":  # read-only, and a query may read the database's tables only (no files, no URLs)
        kwargs["connect_args"] = {"read_only": True, "config": {"enable_external_access": False}}
    elif backend == "postgresql" and "connect_timeout" not in conn.url.query:
        kwargs["connect_args"] = {"connect_timeout": 15}
    try:
        return sa.create_engine(conn.url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise DataContractError(
            f"{where}: no SQLAlchemy dialect for '{conn.url.drivername}' on {conn.shown} (install its package)"
        ) from None
    except ImportError as exc:
        raise DataContractError(
            f"{where}: the driver for {conn.url.drivername} is not installed ({conn.scrub(str(exc))}) — {conn.shown}"
        ) from None
    except sa.exc.ArgumentError as exc:
        raise DataContractError(f"{where}: {conn.scrub(_first_line(exc))} — {conn.shown}") from None


def _source_spec(key: str, spec: dict, where: str) -> tuple[str | None, tuple[str | None, str] | None, list, int]:
    unknown = [k for k in spec if k not in SOURCE_KEYS]
    if unknown:
        raise DataContractError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(SOURCE_KEYS)})")
    if ("table" in spec) == ("sql" in spec):
        raise DataContractError(f"{where}: give either 'table:' or 'sql:' with the connection")
    chunk = spec.get("chunk_rows", CHUNK_ROWS)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise DataContractError(f"{where}.chunk_rows: a whole number of rows above 0 (got {chunk!r})")
    order = spec.get("order_by") or []
    order = [str(c) for c in (order if isinstance(order, list) else [order])]
    if "sql" in spec:
        if order:
            raise DataContractError(f"{where}.order_by: only for 'table:' sources (write ORDER BY in the query)")
        return one_statement(spec["sql"], where), None, [], chunk
    return None, table_name(spec["table"], where), order, chunk


@dataclass
class DatabaseRead:
    """One database source read: its text frame (indexed by result row), read log, masked URL, report line."""

    frame: pd.DataFrame
    log: ReadLog
    shown: str
    line: str


def read_database(
    key: str, spec: dict, mapping: dict, engines: dict[str, Any], environ: Mapping[str, str] | None = None
) -> DatabaseRead:
    """One database source of ``mapping`` (see the module docstring); ``engines`` are reused by URL."""
    import sqlalchemy as sa

    mname = Path(mapping.get("_path", "mapping")).name
    where = f"{mname}: sources.{key}"
    sql, table, order, chunk = _source_spec(key, spec, where)
    conn = connection_url(spec["connection"], where, environ)
    label = f"{table[0]}.{table[1]}" if table and table[0] else (table[1] if table else f"{key} (sql)")
    ident = conn.url.render_as_string(hide_password=False)
    engine = engines.get(ident)
    if engine is None:
        engine = engines[ident] = _engine(conn, where)
    try:
        connection = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        raise DataContractError(f"{where}: cannot connect to {conn.shown}: {conn.scrub(_first_line(exc))}") from None
    except ImportError as exc:
        raise DataContractError(f"{where}: the driver for {conn.url.drivername} is not installed ({exc})") from None
    what = f"table {label}" if table else "the query"
    read_note = ""
    try:
        with connection:
            if conn.url.get_backend_name() == "postgresql":
                connection = connection.execution_options(postgresql_readonly=True)
            streaming = connection.execution_options(stream_results=True, yield_per=chunk)
            if table:
                ref = sa.table(table[1], schema=table[0])
                probe = sa.select(sa.literal_column("*")).select_from(ref).where(sa.false())
                present = list(connection.execute(probe).keys())
                want = mapped_columns(mapping, key)
                cols = [c for c in present if want is None or c in want] or present
                bad_order = [c for c in order if c not in present]
                if bad_order:
                    raise DataContractError(
                        f"{where}.order_by: no column {', '.join(bad_order)} in {label} on {conn.shown}"
                    )
                ref = sa.table(table[1], *[sa.column(c) for c in dict.fromkeys(cols + order)], schema=table[0])
                query = sa.select(*[ref.c[c] for c in cols]).order_by(*[ref.c[c] for c in (order or cols)])
                result = streaming.execute(query)
                read_note = f"{len(cols)} of its {len(present)} columns (the ones the mapping names)"
            else:  # as written: no bind parameters; '%' doubled where the driver would read it as a placeholder
                pyformat = engine.dialect.paramstyle in ("format", "pyformat")
                result = streaming.exec_driver_sql(sql.replace("%", "%%") if pyformat else sql)
            keys = [str(k) for k in result.keys()]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise DataContractError(
                    f"{where}: the query returns column name(s) twice: {', '.join(dupes)} (give them aliases with AS)"
                )
            columns: dict[str, list] = {k: [] for k in keys}
            chunks = 0
            for part in result.partitions(chunk):
                chunks += 1
                for k, values in zip(keys, zip(*part)):
                    columns[k] += text_values(list(values))
    except DataContractError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise DataContractError(
            f"{where}: cannot read {what} on {conn.shown}: {conn.scrub(_first_line(exc))}"
        ) from None
    n = len(columns[keys[0]]) if keys else 0
    df = pd.DataFrame(columns, index=pd.Index(range(1, n + 1), name="row"), dtype=object)
    log = ReadLog(label, encoding="database", delimiter="—", rows_read=n)
    line = (
        f"{label}: read {n:,} rows from {what} on {conn.shown}"
        + (f", {read_note}" if read_note else "")
        + f", in {chunks:,} chunk(s) of up to {chunk:,} rows"
    )
    return DatabaseRead(df, log, conn.shown, line)


def read_database_sources(mapping: dict, environ: Mapping[str, str] | None = None) -> dict[str, DatabaseRead]:
    """Every database source of ``mapping`` by name, read in the mapping's order; connections closed after."""
    engines: dict[str, Any] = {}
    out = {}
    try:
        for key, spec in database_sources(mapping).items():
            out[key] = read_database(key, spec, mapping, engines, environ)
    finally:
        for e in engines.values():
            e.dispose()
    return out
