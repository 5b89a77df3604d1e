"""Database sources (issue 15 part 3): a CRM synced into PostgreSQL or DuckDB imports exactly as its CSV export.

No mocks: the DuckDB file is built from the CSV fixture in a temporary folder, and the PostgreSQL server is a
real one this file starts itself (initdb + pg_ctl from Debian's postgresql package, as ``nobody`` when the
tests run as root, since PostgreSQL refuses to run as root); it is skipped, saying why, when the server
binaries are not on the machine (``make test`` installs them with apt-get when it can).

Every import is compared with the CSV path on the same data (tests/data/fivetran-hubspot, Fivetran's
HubSpot tables and column names): the written tables and audit.yaml must be byte for byte the same.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from salesaudit.data.importers import database as db
from salesaudit.errors import DataContractError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "fivetran-hubspot"
EXAMPLE = ROOT / "examples" / "hubspot-fivetran-postgres.yaml"
TABLES = ("contact", "deal", "deal_contact", "deal_pipeline_stage", "owner")
CSV_SOURCES = {
    "contacts": "contact.csv",
    "deals": "deal.csv",
    "stages": "deal_pipeline_stage.csv",
    "owners": "owner.csv",
    "deal_contacts": "deal_contact.csv",
}
ANALYST_PASSWORD = "Pw-for-analyst-7c1e9b"  # must never appear in any output
SUPER_PASSWORD = "Pw-for-superuser-42d0aa"

# PostgreSQL types as Fivetran writes them (ids bigint, HubSpot datetimes timestamp[tz], amounts numeric)
PG_DDL = {
    "contact": """id bigint PRIMARY KEY, _fivetran_deleted boolean, _fivetran_synced timestamp,
        property_email text, property_firstname text, property_lastname text, property_phone text,
        property_createdate timestamptz, property_hs_analytics_source text, property_hubspot_owner_id bigint,
        property_lifecyclestage text, property_hs_lifecyclestage_marketingqualifiedlead_date timestamp,
        property_hs_lifecyclestage_salesqualifiedlead_date timestamp,
        property_hs_lifecyclestage_customer_date timestamp, property_country text""",
    "deal": """deal_id bigint PRIMARY KEY, is_deleted boolean, deal_pipeline_id text, deal_pipeline_stage_id text,
        owner_id bigint, portal_id bigint, property_dealname text, property_amount numeric(14, 2),
        property_closedate timestamp, property_createdate timestamp, property_closed_lost_reason text""",
    "deal_contact": "deal_id bigint, contact_id bigint, _fivetran_synced timestamp",
    "deal_pipeline_stage": """stage_id text, pipeline_id text, label text, closed_won boolean, display_order int,
        probability double precision, _fivetran_deleted boolean""",
    "owner": "owner_id bigint PRIMARY KEY, email text, first_name text, last_name text, type text, created_at timestamp",
}


def _mapping(tmp_path: Path, sources: dict, name: str = "crm.yaml", **edits) -> Path:
    """The example mapping with its ``sources:`` replaced (and source entries edited: ``{key: {k: v}}``)."""
    m = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    m["sources"] = sources
    for key, change in edits.items():
        merged = {**m["sources"][key], **change}
        m["sources"][key] = {k: v for k, v in merged.items() if v is not None}  # None removes a key
    path = tmp_path / name
    path.write_text(yaml.safe_dump(m, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _same_tables(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.glob("*.csv"))
    assert names == ["leads.csv", "opportunities.csv", "reps.csv"]
    assert sorted(p.name for p in b.glob("*.csv")) == names
    for n in [*names, "audit.yaml"]:
        assert (a / n).read_text(encoding="utf-8") == (b / n).read_text(encoding="utf-8"), n


def _everything_written(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(out.rglob("*")) if p.is_file())


@pytest.fixture(scope="module")
def csv_import(tmp_path_factory) -> Path:
    """The fixture imported from its CSV files: the reference every database import must equal."""
    from salesaudit.data.importers import import_data

    tmp = tmp_path_factory.mktemp("csv_import")
    out, _ = import_data(str(_mapping(tmp, CSV_SOURCES)), [FIXTURE], tmp / "out")
    return out


def test_the_csv_reference_is_what_the_fixture_holds(csv_import):
    import pandas as pd

    leads = pd.read_csv(csv_import / "leads.csv", dtype=str)
    opps = pd.read_csv(csv_import / "opportunities.csv", dtype=str)
    assert len(leads) == 11 and "107" not in set(leads["lead_id"])  # the deleted contact is dropped
    assert len(opps) == 7 and "5006" not in set(opps["opportunity_id"])
    lead = leads.set_index("lead_id")
    assert lead.loc["102", "created_at"] == "2026-01-09 14:00:00"  # +01:00 → UTC
    assert lead.loc["108", "created_at"] == "2026-03-03 22:20:00"  # +09:00 → UTC
    assert lead.loc["112", "channel"] == "unknown"
    opp = opps.set_index("opportunity_id")
    assert opp.loc["5007", "lead_id"] == "105"  # the deal's first contact
    assert opp.loc["5004", "stage"] == "Closed Won" and opp.loc["5004", "amount"] == "15250.0"
    assert sorted(pd.read_csv(csv_import / "reps.csv")["name"]) == ["Kim Novak", "Lee Chan", "Sam Ortiz"]


# --------------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def duckdb_file(tmp_path_factory) -> Path:
    """The fixture's CSV files loaded into a DuckDB file (schema hubspot; DuckDB infers the column types)."""
    import duckdb

    path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA hubspot")
    for t in TABLES:
        con.execute(
            f"CREATE TABLE hubspot.{t} AS SELECT * FROM read_csv(?, header = true)", [str(FIXTURE / f"{t}.csv")]
        )
    assert con.execute("SELECT typeof(property_createdate) FROM hubspot.contact LIMIT 1").fetchone()[0] == (
        "TIMESTAMP WITH TIME ZONE"
    )
    con.close()
    return path


def _duck_sources(path: Path) -> dict:
    m = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return {k: {**v, "connection": f"duckdb:///{path}"} for k, v in m["sources"].items()}


def test_duckdb_import_equals_the_csv_import(duckdb_file, csv_import, tmp_path, cli):
    before = hashlib.sha256(duckdb_file.read_bytes()).hexdigest()
    code, out, err = cli("import", "--from", _mapping(tmp_path, _duck_sources(duckdb_file)), "--out", tmp_path / "out")
    assert code == 0, err
    _same_tables(csv_import, tmp_path / "out")
    report = (tmp_path / "out" / "import-report.md").read_text(encoding="utf-8")
    assert f"| contacts | `hubspot.contact` on `duckdb:///{duckdb_file}` | database | — | 12 |" in report
    assert "hubspot.contact: read 12 rows from table hubspot.contact" in report
    assert "10 of its 15 columns (the ones the mapping names)" in report  # e.g. property_phone is not read
    assert "deal_contacts (sql): read 7 rows from the query" in report
    assert hashlib.sha256(duckdb_file.read_bytes()).hexdigest() == before  # opened read-only


def test_duckdb_reads_in_chunks(duckdb_file, csv_import, tmp_path, cli):
    mapping = _mapping(tmp_path, _duck_sources(duckdb_file), contacts={"chunk_rows": 5})
    code, _, err = cli("import", "--from", mapping, "--out", tmp_path / "out")
    assert code == 0, err
    _same_tables(csv_import, tmp_path / "out")
    assert "in 3 chunk(s) of up to 5 rows" in (tmp_path / "out" / "import-report.md").read_text(encoding="utf-8")


def test_duckdb_missing_file_is_one_line_and_not_created(tmp_path, cli):
    missing = tmp_path / "nope.duckdb"
    code, out, err = cli("import", "--from", _mapping(tmp_path, _duck_sources(missing)), "--out", tmp_path / "out")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"crm.yaml: sources.contacts: cannot connect to duckdb:///{missing}: IO Error: Cannot open database "
        f'"{missing}" in read-only mode: database does not exist'
    ]
    assert not missing.exists() and not (tmp_path / "out").exists()


def test_duckdb_missing_table_is_one_line(duckdb_file, tmp_path, cli):
    mapping = _mapping(tmp_path, _duck_sources(duckdb_file), deals={"table": "hubspot.deals"})
    code, _, err = cli("import", "--from", mapping, "--out", tmp_path / "out")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"crm.yaml: sources.deals: cannot read table hubspot.deals on duckdb:///{duckdb_file}: Catalog Error: "
    )


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a real server, started here
# --------------------------------------------------------------------------------------------------
def _pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1 (a free port; its socket in its own temporary folder) holding the
    fixture in database ``crm``, schema ``hubspot``, readable by the role ``analyst`` (password auth).
    Yields its connection settings; stopped and removed afterwards."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package")
    run_as: dict = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            user = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and there is no 'nobody' user to run PostgreSQL as (it refuses root)")
        run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    home = Path(tempfile.mkdtemp(prefix="salesaudit-pg-"))  # short: a unix socket path has ~100 characters
    if run_as:
        os.chown(home, run_as["user"], run_as["group"])
    pwfile = home / "pwfile"
    pwfile.write_text(SUPER_PASSWORD + "\n")
    if run_as:
        os.chown(pwfile, run_as["user"], run_as["group"])
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    port = _free_port()

    def pg(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(bindir / args[0]), *args[1:]], env=env, cwd=home, capture_output=True, text=True, timeout=120, **run_as
        )

    started = False
    try:
        r = pg("initdb", "-D", str(home / "data"), "-U", "salesaudit", "--auth=scram-sha-256", f"--pwfile={pwfile}")
        assert r.returncode == 0, f"initdb failed: {r.stderr[-2000:]}"
        opts = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=Europe/Warsaw"
        r = pg("pg_ctl", "-D", str(home / "data"), "-l", str(home / "log"), "-w", "-t", "60", "-o", opts, "start")
        assert r.returncode == 0, f"pg_ctl start failed: {r.stderr[-1000:]} {(home / 'log').read_text()[-2000:]}"
        started = True
        _load_fixture(port)
        yield {"host": "127.0.0.1", "port": port, "database": "crm", "user": "analyst", "password": ANALYST_PASSWORD}
    finally:
        if started:
            pg("pg_ctl", "-D", str(home / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _superuser(port: int, dbname: str = "crm"):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=port, user="salesaudit", password=SUPER_PASSWORD, dbname=dbname, autocommit=True
    )


def _load_fixture(port: int) -> None:
    with _superuser(port, "postgres") as con:
        con.execute("CREATE DATABASE crm")
        con.execute(f"CREATE ROLE analyst LOGIN PASSWORD '{ANALYST_PASSWORD}'")
    with _superuser(port) as con:
        con.execute("CREATE SCHEMA hubspot")
        for t in TABLES:
            con.execute(f"CREATE TABLE hubspot.{t} ({PG_DDL[t]})")
            with con.cursor().copy(f"COPY hubspot.{t} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write((FIXTURE / f"{t}.csv").read_text(encoding="utf-8"))
        con.execute("GRANT USAGE ON SCHEMA hubspot TO analyst")
        con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA hubspot TO analyst")
        con.execute("GRANT DELETE ON hubspot.owner TO analyst")  # only the import's read-only transaction stops it
        con.execute("CREATE SEQUENCE hubspot.owner_seq")
        con.execute("GRANT USAGE ON SEQUENCE hubspot.owner_seq TO analyst")


def _count(port: int, table: str) -> int:
    with _superuser(port) as con:
        return con.execute(f"SELECT count(*) FROM hubspot.{table}").fetchone()[0]


@pytest.fixture
def pg_env(postgres, monkeypatch):
    """The example mapping's environment variables, pointing at the test server."""
    monkeypatch.setenv("PGUSER", postgres["user"])
    monkeypatch.setenv("PGPASSWORD", postgres["password"])
    monkeypatch.setenv("PGHOST", postgres["host"])
    monkeypatch.setenv("PGPORT", str(postgres["port"]))
    monkeypatch.setenv("PGDATABASE", postgres["database"])
    return postgres


def _pg_mapping(tmp_path: Path, **edits) -> Path:
    return _mapping(tmp_path, yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["sources"], **edits)


def test_postgres_import_equals_the_csv_import(pg_env, csv_import, tmp_path, cli, caplog):
    caplog.set_level(logging.DEBUG)
    code, out, err = cli("import", "--from", EXAMPLE, "--out", tmp_path / "out")
    assert code == 0, err
    _same_tables(csv_import, tmp_path / "out")
    report = (tmp_path / "out" / "import-report.md").read_text(encoding="utf-8")
    shown = f"postgresql+psycopg://analyst:***@127.0.0.1:{pg_env['port']}/crm"
    assert f"| contacts | `hubspot.contact` on `{shown}` | database | — | 12 |" in report
    assert f"deal_contacts (sql): read 7 rows from the query on {shown}" in report
    for text in (_everything_written(tmp_path / "out"), out, err, caplog.text):
        assert ANALYST_PASSWORD not in text


def test_postgres_reads_in_chunks_with_a_server_side_cursor(pg_env, csv_import, tmp_path, cli):
    code, _, err = cli("import", "--from", _pg_mapping(tmp_path, contacts={"chunk_rows": 5}), "--out", tmp_path / "out")
    assert code == 0, err
    _same_tables(csv_import, tmp_path / "out")
    assert "in 3 chunk(s) of up to 5 rows" in (tmp_path / "out" / "import-report.md").read_text(encoding="utf-8")


def test_postgres_connection_refused_is_one_masked_line(pg_env, tmp_path, cli, monkeypatch):
    closed = _free_port()
    monkeypatch.setenv("PGPORT", str(closed))
    code, out, err = cli("import", "--from", EXAMPLE, "--out", tmp_path / "out")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(
        f"hubspot-fivetran-postgres.yaml: sources.contacts: cannot connect to "
        f"postgresql+psycopg://analyst:***@127.0.0.1:{closed}/crm: "
    )
    assert ANALYST_PASSWORD not in err and not (tmp_path / "out").exists()


def test_postgres_wrong_password_is_one_line_without_it(pg_env, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "Wrong-pw-0d9f3e")
    code, _, err = cli("import", "--from", EXAMPLE, "--out", tmp_path / "out")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "password authentication failed" in err
    assert "Wrong-pw-0d9f3e" not in err and ANALYST_PASSWORD not in err


def test_postgres_missing_table_is_one_line(pg_env, tmp_path, cli):
    code, _, err = cli(
        "import", "--from", _pg_mapping(tmp_path, owners={"table": "hubspot.owners"}), "--out", tmp_path / "o"
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"crm.yaml: sources.owners: cannot read table hubspot.owners on "
        f'postgresql+psycopg://analyst:***@127.0.0.1:{pg_env["port"]}/crm: relation "hubspot.owners" does not exist'
    )


def test_a_table_name_is_quoted_never_pasted_into_sql(pg_env, tmp_path, cli):
    hostile = "hubspot.owner; DELETE FROM hubspot.owner; --"  # three dotted parts: refused before any SQL
    code, _, err = cli("import", "--from", _pg_mapping(tmp_path, owners={"table": hostile}), "--out", tmp_path / "o")
    assert code == 2 and "is not a table name (name or schema.name)" in err
    hostile = "hubspot.owner; DELETE FROM owner; --"  # schema "hubspot", table "owner; DELETE FROM owner; --"
    code, _, err = cli("import", "--from", _pg_mapping(tmp_path, owners={"table": hostile}), "--out", tmp_path / "o")
    assert code == 2 and f'relation "{hostile}" does not exist' in err
    hostile = "owner; DROP TABLE deal; --"
    code, _, err = cli("import", "--from", _pg_mapping(tmp_path, owners={"table": hostile}), "--out", tmp_path / "o")
    assert code == 2
    assert f'relation "{hostile}" does not exist' in err  # looked up as one quoted name
    assert _count(pg_env["port"], "deal") == 8 and _count(pg_env["port"], "owner") == 3


def test_the_connection_is_read_only(pg_env, tmp_path, cli):
    """The analyst role may use the sequence and delete from hubspot.owner, but not through the import."""
    sql = "SELECT nextval('hubspot.owner_seq') AS owner_id"
    code, _, err = cli(
        "import", "--from", _pg_mapping(tmp_path, owners={"sql": sql, "table": None}), "--out", tmp_path / "o"
    )
    assert code == 2
    assert "cannot read the query on" in err and "cannot execute nextval() in a read-only transaction" in err
    with _superuser(pg_env["port"]) as con:
        assert con.execute("SELECT is_called FROM hubspot.owner_seq").fetchone()[0] is False
    sql = "WITH gone AS (DELETE FROM hubspot.owner RETURNING owner_id) SELECT owner_id FROM gone"
    code, _, err = cli(
        "import", "--from", _pg_mapping(tmp_path, owners={"sql": sql, "table": None}), "--out", tmp_path / "o"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert _count(pg_env["port"], "owner") == 3


def test_several_statements_are_refused_before_connecting(pg_env, tmp_path, cli):
    sql = "SELECT owner_id FROM hubspot.owner; DELETE FROM hubspot.owner"
    code, _, err = cli(
        "import", "--from", _pg_mapping(tmp_path, owners={"sql": sql, "table": None}), "--out", tmp_path / "o"
    )
    assert code == 2
    assert err.strip() == (
        "crm.yaml: sources.owners.sql: one statement only (a ';' ends the first after 34 characters; "
        "a mapping never runs several)"
    )
    assert _count(pg_env["port"], "owner") == 3


def test_an_unset_variable_is_one_line(tmp_path, cli, monkeypatch):
    for v in ("PGUSER", "PGPASSWORD", "PGHOST", "PGPORT", "PGDATABASE"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("PGUSER", "analyst")
    code, _, err = cli("import", "--from", EXAMPLE, "--out", tmp_path / "o")
    assert code == 2
    assert err.strip() == (
        "hubspot-fivetran-postgres.yaml: sources.contacts.connection: environment variable(s) not set: "
        "PGDATABASE, PGHOST, PGPASSWORD, PGPORT (export them before the import)"
    )


# --------------------------------------------------------------------------------------------------
# the pieces, without a database
# --------------------------------------------------------------------------------------------------
def test_connection_url_expands_only_the_environment_and_masks():
    env = {"U": "ann", "P": "p@ss/w:rd", "H": "db.internal", "D": "crm"}
    c = db.connection_url("postgresql+psycopg://${U}:${P}@${H}:5432/${D}?sslmode=require", "m.yaml: sources.x", env)
    assert (c.url.username, c.url.password, c.url.host, c.url.port, c.url.database) == (
        "ann",
        "p@ss/w:rd",
        "db.internal",
        5432,
        "crm",
    )
    assert c.shown == "postgresql+psycopg://ann:***@db.internal:5432/crm?sslmode=require"
    assert c.scrub("failed for p@ss/w:rd and p%40ss%2Fw%3Ard") == "failed for *** and ***"
    # $NAME without braces, and ${…} in the data or the query, are never expanded
    assert db.connection_url("duckdb:///$HOME/x.duckdb", "m", env).url.database == "$HOME/x.duckdb"


def test_connection_url_masks_secret_query_values_and_literal_passwords():
    c = db.connection_url("snowflake://me:hunter2@acct/db?private_key_passphrase=xyz&role=r", "m", {})
    assert c.shown == "snowflake://me:***@acct/db?private_key_passphrase=***&role=r"
    assert c.scrub("hunter2 xyz") == "*** ***"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://${NOPE_1}@h/db", "m: sources.x.connection: environment variable(s) not set: NOPE_1"),
        ("not a url", "m: sources.x.connection: not a SQLAlchemy URL"),
        ("", "m: sources.x.connection: a SQLAlchemy URL"),
    ],
)
def test_connection_url_errors(url, message):
    with pytest.raises(DataContractError, match="^" + re.escape(message)):
        db.connection_url(url, "m: sources.x", {})


def test_a_url_that_does_not_parse_is_shown_masked():
    with pytest.raises(DataContractError) as e:
        db.connection_url("postgresql+psycopg://ann:s3cret@h:port/db", "m: sources.x", {})
    assert "s3cret" not in str(e.value) and "ann:***@h:port/db" in str(e.value)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select ';' as semi;",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x -- trailing; comment",
        "SELECT $$a;b$$ AS t",
        "SELECT 'it''s; fine' /* ; */",
        "SELECT E'\\';' AS t;  ",
        "(SELECT 1)",
    ],
)
def test_one_statement_accepts(sql):
    assert db.one_statement(sql, "m").rstrip().endswith((";",)) is False


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("SELECT 1; SELECT 2", "one statement only"),
        ("SELECT 1;\nDROP TABLE x;", "one statement only"),
        ("DELETE FROM x", "must be a SELECT"),
        ("-- SELECT\nUPDATE x SET a = 1", "must be a SELECT"),
        ("SELECT 'open", "is not closed"),
        ("", "a SELECT query"),
    ],
)
def test_one_statement_refuses(sql, why):
    with pytest.raises(DataContractError, match=why):
        db.one_statement(sql, "m")


def test_table_names():
    assert db.table_name("contact", "m") == (None, "contact")
    assert db.table_name('"odd.schema"."Deal ""x"""', "m") == ("odd.schema", 'Deal "x"')
    for bad in ("a.b.c", "a.", '"open', ""):
        with pytest.raises(DataContractError, match="sources" if not bad else "not a table name|a table name"):
            db.table_name(bad, "m: sources.x")


def test_text_values_are_what_a_csv_export_holds():
    from datetime import date, datetime, timedelta, timezone
    from decimal import Decimal

    values = [None, " a ", "", 7, 2.5, float("nan"), Decimal("10.50"), True, date(2026, 3, 1)]
    values += [datetime(2026, 3, 1, 12, 30), datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=-5)))]
    values += [{"b": 1, "a": [2]}, b"\x01\xff"]
    assert db.text_values(values) == [
        None,
        "a",
        None,
        "7",
        "2.5",
        None,
        "10.50",
        "true",
        "2026-03-01",
        "2026-03-01 12:30:00",
        "2026-03-01 17:30:00",
        '{"a": [2], "b": 1}',
        "01ff",
    ]


def test_mapped_columns_are_the_names_the_mapping_uses():
    m = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    contacts = db.mapped_columns(m, "contacts")
    assert {
        "id",
        "property_createdate",
        "property_hs_analytics_source",
        "property_email",
        "_fivetran_deleted",
    } <= contacts
    assert "property_phone" not in contacts and "property_firstname" not in contacts
    assert {"stage_id", "label"} <= db.mapped_columns(m, "stages")
    m["tables"]["opportunities"]["join"][0].pop("columns")  # a join without columns takes every column
    assert db.mapped_columns(m, "stages") is None


def test_make_test_installs_postgres():
    rule = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/ensure-postgres.sh" in rule
    script = (ROOT / "scripts" / "ensure-postgres.sh").read_text()
    assert "apt-get install -y -qq postgresql" in script and script.rstrip().endswith("exit 0")


def test_the_modules_examples_hold():
    import doctest

    assert doctest.testmod(db).failed == 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"connection": "duckdb:///x.duckdb"}, "m.yaml: sources.s: give either 'table:' or 'sql:' with the connection"),
        (
            {"connection": "duckdb:///x.duckdb", "table": "t", "sql": "SELECT 1"},
            "m.yaml: sources.s: give either 'table:' or 'sql:' with the connection",
        ),
        (
            {"connection": "duckdb:///x.duckdb", "table": "t", "password": "x"},
            "m.yaml: sources.s: unknown key(s) password (known: connection, table, sql, order_by, chunk_rows)",
        ),
        (
            {"connection": "duckdb:///x.duckdb", "table": "t", "chunk_rows": 0},
            "m.yaml: sources.s.chunk_rows: a whole number of rows above 0 (got 0)",
        ),
        (
            {"connection": "duckdb:///x.duckdb", "sql": "SELECT 1", "order_by": ["a"]},
            "m.yaml: sources.s.order_by: only for 'table:' sources (write ORDER BY in the query)",
        ),
        (
            {"connection": "snowflake://me:${SF_PW}@acct/db", "table": "t"},
            "m.yaml: sources.s: no SQLAlchemy dialect for 'snowflake' on snowflake://me:***@acct/db (install its package)",
        ),
    ],
)
def test_source_spec_errors_are_one_line_before_connecting(source, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a DuckDB file would be looked up here (and must not be created)
    mapping = {"_path": "m.yaml", "sources": {"s": source}, "tables": {}}
    with pytest.raises(DataContractError) as e:
        db.read_database_sources(mapping, {"SF_PW": "sf-secret-pw"})
    assert str(e.value) == message
    assert list(tmp_path.iterdir()) == []


def test_text_values_of_whole_columns_match_value_by_value():
    """The vectorised paths (text, ints, naive or aware timestamps) give what _text gives one by one."""
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(hours=9))
    columns = [
        [" x", None, "", "y "],
        [1, None, -5, 10**15],
        [datetime(2026, 1, 1, 3, 4, 5), None, datetime(2026, 12, 31, 23, 59, 59)],
        [datetime(2026, 1, 1, 3, 4, 5, 120000), datetime(2026, 1, 2)],
        [datetime(2026, 1, 1, 3, tzinfo=tz), None, datetime(2026, 6, 1, tzinfo=timezone.utc)],
        [datetime(9999, 12, 31, 1, 2, 3), datetime(1, 1, 1)],
    ]
    for values in columns:
        assert db.text_values(values) == [db._text(v) for v in values], values


@pytest.mark.parametrize("engine", ["postgres", "duckdb"])
def test_a_query_with_percent_signs_and_a_trailing_semicolon(engine, request, csv_import, tmp_path, cli):
    """The analyst's query reaches the driver as written: no bind-parameter or %-format processing."""
    sql = (
        "SELECT owner_id, email, first_name, last_name, created_at FROM hubspot.owner\n"
        "WHERE email LIKE '%@acme.example' AND first_name <> ':x' -- 100% of them;\nORDER BY owner_id;"
    )
    if engine == "postgres":
        request.getfixturevalue("pg_env")
        mapping = _pg_mapping(tmp_path, owners={"sql": sql, "table": None})
    else:
        sources = _duck_sources(request.getfixturevalue("duckdb_file"))
        mapping = _mapping(tmp_path, sources, owners={"sql": sql, "table": None})
    code, _, err = cli("import", "--from", mapping, "--out", tmp_path / "out")
    assert code == 0, err
    _same_tables(csv_import, tmp_path / "out")


def test_a_duckdb_query_cannot_read_other_files(duckdb_file, tmp_path, cli):
    secret = tmp_path / "secret.csv"
    secret.write_text("owner_id,email,first_name,last_name,created_at\n1,x@y,a,b,2024-01-01\n")
    sql = f"SELECT * FROM read_csv('{secret}')"
    mapping = _mapping(tmp_path, _duck_sources(duckdb_file), owners={"sql": sql, "table": None})
    code, _, err = cli("import", "--from", mapping, "--out", tmp_path / "out")
    assert code == 2 and "file system operations are disabled" in err and len(err.strip().splitlines()) == 1
