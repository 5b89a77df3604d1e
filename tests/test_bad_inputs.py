"""The bad-input corpus (issue 11): every malformed or hostile input gives its exact one-line message.

Each case builds a small folder, runs ``python -m salesaudit`` in-process (an exception escaping ``main``
would fail the test, so "no traceback" is part of every case) and asserts the exit code, the exact first
line on stderr and that no raw file changed (SHA-256 before and after). Cases that could hang or that a
user may hit from a shell (a FIFO, the top-level handler) run as a subprocess with a timeout.

Groups: data files (``validate``), settings (``audit.yaml``), command line and builds (``report``),
importer (``import``). The exact lines are the user-facing contract: change them here when they change.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
LEADS = "lead_id,created_at,channel\nL1,2026-01-05,paid_search\nL2,2026-02-05,events\nL3,2026-03-05,paid_search\n"
OPPS = "opportunity_id,lead_id,owner_id,created_at,stage,amount\nO1,L1,R1,2026-01-10,Closed Won,100\n"
REPS = "rep_id,name\nR1,Ann\n"
PROBLEMS = "problem(s): the data cannot be audited until they are fixed"
Make = Callable[[Path], None]


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes | Make]
    first_line: str  # exact; {d} is the case folder
    code: int = 2
    args: list[str] = field(default_factory=lambda: ["validate", "{d}"])
    lines: int | None = None  # how many stderr lines in all (None: not checked)


def _leads_with(*rows: str) -> str:
    return "lead_id,created_at,channel\n" + "".join(f"{r}\n" for r in rows)


def _parquet(frame: pd.DataFrame) -> Make:
    return lambda p: frame.to_parquet(p, index=False)


def _dup_parquet(p: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            [pa.array(["L1"]), pa.array(["2026-01-05"]), pa.array(["x"])], names=["lead_id", "created_at", "created_at"]
        ),
        p,
    )


def _mkdir(p: Path) -> None:
    p.mkdir()


def _both(p: Path) -> None:
    p.write_text(LEADS)
    pd.read_csv(p, dtype=str).to_parquet(p.with_suffix(".parquet"), index=False)


def _stale_parquet(p: Path) -> None:
    p.write_text(LEADS)
    pd.read_csv(p, dtype=str).head(1).to_parquet(p.with_suffix(".parquet"), index=False)


DATA = [
    Case(
        "header-only leads",
        {"leads.csv": "lead_id,created_at,channel\n"},
        "leads.csv: has a header but no rows: nothing to audit",
    ),
    Case("empty leads file", {"leads.csv": ""}, "leads.csv: the file is empty (not even a header)"),
    Case(
        "channel and 'channel '",
        {"leads.csv": "lead_id,created_at,channel,channel \nL1,2026-01-05,a,b\n"},
        "leads.csv: columns 3 and 4 are named alike ('channel', 'channel '); keep one, the audit cannot tell which is right",
    ),
    Case(
        "two created_at",
        {"leads.csv": "lead_id,created_at,created_at,channel\nL1,2026-01-05,2026-02-01,a\n"},
        "leads.csv: columns 2 and 3 are both named 'created_at'; keep one, the audit cannot tell which is right",
    ),
    Case(
        "Created_At beside created_at",
        {"leads.csv": "lead_id,created_at,Created_At,channel\nL1,2026-01-05,2026-02-01,a\n"},
        "leads.csv: columns 2 and 3 are named alike ('created_at', 'Created_At'); keep one, the audit cannot tell which is right",
    ),
    Case(
        "two columns of one name in Parquet",
        {"leads.parquet": _dup_parquet},
        "leads.parquet: columns 2 and 3 are both named 'created_at'; keep one, the audit cannot tell which is right",
    ),
    Case(
        "date 'March'",
        {"leads.csv": _leads_with("L1,March,a", "L2,2026-01-01,a")},
        "leads.csv: column created_at: 1 row not a date (e.g. 'March') (row 2)",
    ),
    Case(
        "date '5pm'",
        {"leads.csv": _leads_with("L1,2026-01-01,a", "L2,5pm,a")},
        "leads.csv: column created_at: 1 row not a date (e.g. '5pm') (row 3)",
    ),
    Case(
        "year 2300",
        {"leads.csv": _leads_with("L1,2300-01-01,a", "L2,2026-01-01,a")},
        "leads.csv: column created_at: 1 row not a date (e.g. '2300-01-01') (row 2)",
    ),
    Case(
        "leads dated 1900 and 2100",
        {
            "leads.csv": _leads_with("L1,1900-01-01,a", "L2,2100-01-01,a", "L3,2026-01-01,a"),
            "audit.yaml": "extracted_at: 2026-10-02\n",
        },
        "leads.csv: column created_at: 2 rows outside the plausible dates 1990-01-01 to 2027-10-02 (e.g. '1900-01-01', "
        "'2100-01-01'); fix them, or set earliest_date / latest_date in audit.yaml if they are real (rows 2, 3)",
    ),
    Case(
        "a deal closed in 2099",
        {
            "leads.csv": LEADS,
            "reps.csv": REPS,
            "audit.yaml": "extracted_at: 2026-10-02\n",
            "opportunities.csv": OPPS.replace("Closed Won,100", "Closed Won,100")
            .replace("created_at,stage", "created_at,closed_at,stage")
            .replace("2026-01-10,", "2026-01-10,2099-12-31,"),
        },
        "opportunities.csv: column closed_at: 1 row outside the plausible dates 1990-01-01 to 2027-10-02 (e.g. '2099-12-31'); "
        "fix them, or set earliest_date / latest_date in audit.yaml if they are real (row 2)",
    ),
    Case("leads.csv a folder", {"leads.csv": _mkdir}, "leads.csv: is a directory, not a file"),
    Case(
        "semicolon-separated",
        {"leads.csv": "lead_id;created_at;channel\nL1;2026-01-05;a\n"},
        "leads.csv: the whole header is one column ('lead_id;created_at;channel'); the file is separated by ';', not "
        "commas; save it as comma-separated CSV or import it with a mapping (delimiter is detected there)",
    ),
    Case(
        "tab-separated",
        {"leads.csv": "lead_id\tcreated_at\tchannel\nL1\t2026-01-05\ta\n"},
        "leads.csv: the whole header is one column ('lead_id\\tcreated_at\\tchannel'); the file is separated by tabs, not "
        "commas; save it as comma-separated CSV or import it with a mapping (delimiter is detected there)",
    ),
    Case(
        "leads.csv beside leads.parquet",
        {"leads.csv": _both},
        "leads.csv and leads.parquet: both present; delete the stale one or set file_format: csv (or parquet) in audit.yaml",
    ),
    Case(
        "binary garbage",
        {"leads.csv": b"\x00\xff\xfe" * 50},
        "leads.csv: cannot be read ('utf-8' codec can't decode byte 0xff in position 1: invalid start byte)",
    ),
    Case(
        "not Parquet",
        {"leads.parquet": "lead_id\nL1\n"},
        "leads.parquet: cannot be read (Parquet magic bytes not found in footer. Either the file is corrupted or this "
        "is not a parquet file.)",
    ),
    Case(
        "no leads table",
        {"reps.csv": REPS},
        "{name}/leads.csv: required table is missing (no leads.csv or leads.parquet)",
    ),
    Case("no data folder", {}, "{d}/nope: data folder not found", args=["validate", "{d}/nope"]),
    Case(
        "duplicate lead id",
        {"leads.csv": _leads_with("L1,2026-01-05,a", "L1,2026-01-06,a")},
        "leads.csv: column lead_id: 2 rows duplicate id (rows 2, 3)",
    ),
    Case(
        "negative amount",
        {"leads.csv": LEADS, "reps.csv": REPS, "opportunities.csv": OPPS.replace(",100", ",-100")},
        "opportunities.csv: column amount: 1 row is negative (must be ≥ 0) (row 2)",
    ),
    Case(
        "required column missing",
        {"leads.csv": LEADS.replace("channel", "source", 1)},
        "leads.csv: column channel: required column is missing",
    ),
    Case(
        "score not a number",
        {"leads.csv": "lead_id,created_at,channel,lead_score\nL1,2026-01-05,a,high\n"},
        "leads.csv: column lead_score: 1 row not a number (row 2)",
    ),
    Case(
        "score out of range",
        {"leads.csv": "lead_id,created_at,channel,lead_score\nL1,2026-01-05,a,555\n"},
        "leads.csv: column lead_score: 1 row out of range (above the maximum 100) (row 2)",
    ),
    Case(
        "required cell empty",
        {"leads.csv": LEADS, "reps.csv": REPS, "opportunities.csv": OPPS.replace("L1,R1,", "L1,,")},
        "opportunities.csv: column owner_id: 1 row empty (required) (row 2)",
    ),
]

SETTINGS = [
    Case(f"audit.yaml {text.strip()}", {"leads.csv": LEADS, "audit.yaml": text}, line)
    for text, line in [
        ("roi_targt: 2\n", "audit.yaml: roi_targt: unknown setting (did you mean roi_target?)"),
        ("channels: paid_search\n", "audit.yaml: channels: expected a list (e.g. [a, b]), got str"),
        ("gross_margin: 7\n", "audit.yaml: gross_margin: 7 is outside 0–1 (a share: 0.7 means 70%)"),
        ("interval_level: 1.5\n", "audit.yaml: interval_level: 1.5 is outside 0–1 (e.g. 0.9 for 90% intervals)"),
        ("fiscal_year_start_month: 13\n", "audit.yaml: fiscal_year_start_month: 13 is not a month number 1–12"),
        ("stages: [Won]\n", "audit.yaml: stages: expected a mapping of open/won/lost to lists of stage names"),
        ("stages: {won: Closed Won}\n", "audit.yaml: stages.won: expected a list of stage names, got str"),
        ("stages: {closed: [Won]}\n", "audit.yaml: stages.closed: expected open, won or lost"),
        ("roi_target: 0\n", "audit.yaml: roi_target: 0 must be greater than 0"),
        ("stale_content_days: -3\n", "audit.yaml: stale_content_days: -3 is not a whole number of days ≥ 0"),
        ("extracted_at: soon\n", "audit.yaml: extracted_at: 'soon' is not a date (write 2026-10-02)"),
        ("gross_margin: high\n", "audit.yaml: gross_margin: expected a number, got str"),
        (
            "earliest_date: 2027-01-01\nlatest_date: 2026-01-01\n",
            "audit.yaml: earliest_date: 2027-01-01 is not before latest_date 2026-01-01",
        ),
        ("file_format: xlsx\n", "audit.yaml: file_format: 'xlsx' is neither csv nor parquet"),
        ("company: [a\n", "audit.yaml: line 2 not valid YAML (ParserError)"),
        ("- a\n- b\n", "audit.yaml: expected a mapping of settings, got list"),
    ]
] + [
    Case(
        "audit.yaml a folder",
        {"leads.csv": LEADS, "audit.yaml": _mkdir},
        "{d}/audit.yaml: settings file is not a regular file",
    ),
    Case(
        "--config missing",
        {"leads.csv": LEADS},
        "nope.yaml: settings file not found",
        args=["validate", "{d}", "--config", "nope.yaml"],
    ),
]

IMPORTS = [
    Case(
        "join on a missing column",
        {
            "deals.csv": "Deal,Owner,Created\nD1,U1,2026-01-05\n",
            "users.csv": "Id,Name\nU1,Ann\n",
            "map.yaml": "sources: {deals: 'deals*.csv', users: 'users*.csv'}\ntables:\n  leads:\n    source: deals\n"
            "    join: [{source: users, keys: {Owner: UserId}}]\n    columns: {lead_id: Deal, created_at: Created}\n"
            "    constants: {channel: direct}\n",
        },
        "users.csv: tables.leads.join keys names column(s) not in the file: UserId (header has: Id, Name)",
        args=["import", "--from", "{d}/map.yaml", "{d}/deals.csv", "{d}/users.csv", "--out", "{d}/../out-{name}"],
    ),
    Case(
        "hostile derived expression",
        {
            "deals.csv": "Deal,Created\nD1,2026-01-05\n",
            "map.yaml": "sources: {deals: 'deals*.csv'}\ntables:\n  leads:\n    source: deals\n"
            "    columns: {lead_id: Deal, created_at: Created}\n    constants: {channel: direct}\n"
            "    derived: {segment: '@pd.io.common.os.system(\"touch pwned\")'}\n",
        },
        "map.yaml: tables.leads.derived.segment: not allowed in a mapping expression: '@' variable '@pd'",
        args=["import", "--from", "{d}/map.yaml", "{d}/deals.csv", "--out", "{d}/../out-{name}"],
    ),
    Case(
        "mapping file is not YAML",
        {"deals.csv": "Deal\nD1\n", "map.yaml": "sources: [a\n"},
        "map.yaml: line 2 not valid YAML (ParserError)",
        args=["import", "--from", "{d}/map.yaml", "{d}/deals.csv", "--out", "{d}/../out-{name}"],
    ),
    Case(
        "--out is the source folder",
        {"leads.csv": "Lead ID,Created Date\n1,2026-01-05\n"},
        "--out {d}: is the source folder {d}; raw exports are read-only, choose another output folder",
        args=["import", "--from", "salesforce", "{d}", "--out", "{d}"],
    ),
    Case(
        "source a folder named .csv",
        {"deals.csv": _mkdir, "map.yaml": "sources: {deals: 'deals*.csv'}\ntables: {}\n"},
        "no input file matches the map format (expected deals: deals*.csv)",
        args=["import", "--from", "{d}/map.yaml", "{d}/deals.csv", "--out", "{d}/../out-{name}"],
    ),
]

REPORT = [
    Case(
        "--reports a file",
        {"leads.csv": LEADS, "out.txt": "x"},
        "--reports {d}/out.txt: is a file, not a folder",
        args=["report", "--data", "{d}", "--reports", "{d}/out.txt", "--no-pdf", "--quiet"],
    ),
    Case(
        "--reports under a file",
        {"leads.csv": LEADS, "out.txt": "x"},
        "--reports {d}/out.txt/q: cannot write there ({d}/out.txt/q: a part of this path is a file, not a folder)",
        args=["report", "--data", "{d}", "--reports", "{d}/out.txt/q", "--no-pdf", "--quiet"],
    ),
    Case(
        "--quarter not a quarter",
        {"leads.csv": LEADS},
        "quarter '2026Q5': expected a label like 2026Q3",
        args=["report", "--data", "{d}", "--quarter", "2026Q5", "--reports", "{d}/../r-{name}", "--no-pdf", "--quiet"],
    ),
    Case("lint of a folder without a report", {"x.txt": "x"}, "1 problem(s) in {d}", args=["lint", "{d}"], code=1),
]

CASES = DATA + SETTINGS + IMPORTS + REPORT


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _build(case: Case, tmp_path: Path) -> Path:
    name = "case"
    d = tmp_path / name
    d.mkdir()
    for fname, content in case.files.items():
        p = d / fname
        if callable(content):
            content(p)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return d


def _fill(text: str, d: Path) -> str:
    return text.replace("{d}/..", str(d.parent)).replace("{d}", str(d)).replace("{name}", d.name)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_its_one_line(case, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = _build(case, tmp_path)
    before = _hashes(d)
    code, out, err = cli(*[_fill(a, d) for a in case.args])
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, f"nothing on stderr (exit {code}, stdout {out!r})"
    assert lines[0] == _fill(case.first_line, d)
    assert code == case.code
    if case.args[0] == "validate" and len(lines) > 1:
        assert lines[-1] == f"{len(lines) - 1} {PROBLEMS}"
    assert "Traceback" not in err
    assert _hashes(d) == before, "a raw file changed"
    assert not (tmp_path / "pwned").exists() and not (d / "pwned").exists()


def test_corpus_is_large_enough():
    assert len(CASES) + len(EXTRA_CASES) >= 40


# ------------------------------------------------------------------------------------------------
# cases that need more than a folder: a FIFO, the OS-error handler, the cache, a stale Parquet
# ------------------------------------------------------------------------------------------------
EXTRA_CASES = [
    "leads.csv a FIFO",
    "leads.csv unreadable",
    "import source a FIFO",
    "SALESAUDIT_CACHE a file",
    "--reports not writable",
    "disk full during a build (tests/test_report_safety.py)",
    "file_format chooses between CSV and Parquet",
    "earliest_date admits older leads",
]


def _run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salesaudit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT / "lib"), **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    d = tmp_path / "fifo"
    d.mkdir()
    os.mkfifo(d / "leads.csv")
    r = _run("validate", str(d), timeout=30)  # opening a FIFO would block for ever
    assert (r.returncode, r.stderr) == (2, "leads.csv: is a named pipe (FIFO), not a file\n")
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "deals.csv")
    (src / "map.yaml").write_text("sources: {deals: 'deals*.csv'}\ntables: {}\n")
    r = _run(
        "import", "--from", str(src / "map.yaml"), str(src / "deals.csv"), "--out", str(tmp_path / "o"), timeout=30
    )
    assert (r.returncode, r.stderr) == (2, f"{src / 'deals.csv'}: is a named pipe (FIFO), not a file\n")


def test_an_unreadable_file_is_one_line(tmp_path, cli, monkeypatch):
    d = tmp_path / "d"
    d.mkdir()
    (d / "leads.csv").write_text(LEADS)
    real_open = open

    def denied(file, *args, **kwargs):
        if str(file).endswith("leads.csv"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    code, _, err = cli("validate", d, "--no-cache")
    assert (code, err) == (1, f"salesaudit validate: {d / 'leads.csv'}: permission denied\n")


def test_cache_folder_that_is_a_file_only_costs_time(tmp_path, monkeypatch, cli, caplog):
    d = tmp_path / "d"
    d.mkdir()
    (d / "leads.csv").write_text(LEADS)
    blocker = tmp_path / "cache-file"
    blocker.write_text("x")
    monkeypatch.setenv("SALESAUDIT_CACHE", str(blocker))
    code, out, err = cli("validate", d)
    assert code == 0 and out.splitlines()[-1].startswith("OK: d is valid; leads from 2026-01-05 to 2026-03-05")
    assert "Traceback" not in err
    assert caplog.messages == [
        f"could not write the cache in {blocker} ([Errno 17] File exists: '{blocker}'); every step re-reads the raw files"
    ]
    assert blocker.read_text() == "x"


def test_reports_folder_not_writable(tmp_path, monkeypatch, cli):
    d = tmp_path / "d"
    d.mkdir()
    (d / "leads.csv").write_text(LEADS)
    reports = tmp_path / "reports"
    reports.mkdir()

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(reports / ".write-check-x"))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    code, _, err = cli("report", "--data", d, "--reports", reports, "--no-pdf", "--quiet")
    assert (code, err) == (
        2,
        f"--reports {reports}: cannot write there ({reports / '.write-check-x'}: permission denied)\n",
    )


def test_file_format_chooses_and_earliest_date_admits(tmp_path, cli):
    d = tmp_path / "d"
    d.mkdir()
    _stale_parquet(d / "leads.csv")
    (d / "audit.yaml").write_text("file_format: csv\n")
    code, out, _ = cli("validate", d)
    assert code == 0 and "leads                    3 rows  leads.csv" in out
    (d / "audit.yaml").write_text("file_format: parquet\n")
    code, out, _ = cli("validate", d)
    assert code == 0 and "leads                    1 rows  leads.parquet" in out
    old = tmp_path / "old"
    old.mkdir()
    (old / "leads.csv").write_text(_leads_with("L1,1985-06-01,a", "L2,2026-01-01,a"))
    code, _, err = cli("validate", old)
    assert code == 2 and "outside the plausible dates 1990-01-01" in err
    (old / "audit.yaml").write_text("earliest_date: 1980-01-01\n")
    code, out, _ = cli("validate", old)
    assert code == 0 and "leads from 1985-06-01 to 2026-01-01" in out
