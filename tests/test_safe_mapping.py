"""Untrusted mappings and exports (issue 11): mapping expressions run nothing; raw exports are never written.

* A hostile ``derived:``/``filter:`` expression stops the import with one line naming the mapping file,
  table and key — before anything is computed, so no file appears.
* Every construct of the grammar (docs/importing.md) computes what the pandas expression computes.
* ``--out`` can be neither a source nor hold one nor lie inside a source folder; a failed import leaves
  no output folder (and no temporary one) behind.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from salesaudit.data import importers
from salesaudit.data.importers import import_data
from salesaudit.data.importers.expressions import evaluate
from salesaudit.errors import DataContractError

ROOT = Path(__file__).resolve().parents[1]
SALESFORCE = ROOT / "tests" / "data" / "imports" / "salesforce"
START_CWD = Path.cwd()

NOT_ALLOWED = "acme.yaml: tables.leads.derived.is_won: not allowed in a mapping expression: "

# payload → what the one-line message names
PAYLOADS = {
    '`Lead ID`.__class__.__init__.__globals__["sys"].modules["os"].system("id > pwned.txt")': "attribute '__class__'",
    '@pd.io.common.os.system("id > pwned.txt")': "'@' variable '@pd'",
    "@pd": "'@' variable '@pd'",
    '__import__("os").system("id > pwned.txt")': "call to '__import__'",
    '__import__("os")': "call to '__import__'",
    'globals()["os"].system("id > pwned.txt")': "call to 'globals'",
    "globals()": "call to 'globals'",
    '(lambda: 0)() if `Lead ID` == "x" else 1': "lambda",
    '(lambda: __import__("os").system("id > pwned.txt"))()': "call to '__import__'",
    "().__class__.__bases__[0].__subclasses__()": "attribute '__class__'",
    "`Lead ID`[0]": "subscript",
    '`Lead ID`.str[0:2] == "00"': "subscript",
    '`Lead ID`.to_csv("pwned.txt")': "attribute 'to_csv'",
    "`Lead ID`.pipe(print)": "attribute 'pipe'",
    '`Lead ID`.str.cat(sep="")': "attribute '.str.cat'",
    "`Lead ID`.fillna(value=__builtins__)": "name '__builtins__'",
    '`Lead ID`.str.contains("a", flags=2)': "keyword 'flags' of 'contains'",
    "`Lead ID`.astype(object)": "astype takes one of str, int, float",
    "[c for c in `Lead ID`]": "list comprehension",
    "`Lead ID` is None": "comparison 'is'",
    "`Lead ID` in `Lead Source`": "'in' needs a literal list, e.g. x in ['a', 'b']",
    'f"{1 + 1}"': "f-string",
    "9 ** 9 ** 9": "a power above 64",
    "`Lead ID` * 1000000000": "'*' on text (write .astype(float) to use a column as numbers)",
    "'x' * 1000000000": "'*' on text (write .astype(float) to use a column as numbers)",
    "Rating2 == 1": "name 'Rating2' (not a column; write `Rating2` in backticks for a column)",
}


def _hash_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))}


def _acme(tmp_path: Path, *, derived: dict | None = None, filter_: str | None = None) -> tuple[Path, Path]:
    """A Salesforce leads report in ``exports/`` and a mapping ``acme.yaml`` with the given expressions."""
    src = tmp_path / "exports"
    src.mkdir(exist_ok=True)
    shutil.copy(SALESFORCE / "leads_report.csv", src / "leads.csv")
    leads = {
        "source": "leads",
        "columns": {"lead_id": "Lead ID", "created_at": "Create Date", "channel": "Lead Source"},
        "dates": {"dayfirst": False},
    }
    if derived:
        leads["derived"] = derived
    if filter_:
        leads["filter"] = filter_
    mapping = tmp_path / "acme.yaml"
    mapping.write_text(yaml.safe_dump({"sources": {"leads": "leads*.csv"}, "tables": {"leads": leads}}))
    return mapping, src


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_hostile_derived_expression_is_one_line_and_runs_nothing(payload, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    mapping, src = _acme(tmp_path, derived={"is_won": payload})
    before = _hash_tree(src)
    code, out, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert code == 2
    assert err == NOT_ALLOWED + PAYLOADS[payload] + "\n"
    assert not (tmp_path / "pwned.txt").exists() and not (START_CWD / "pwned.txt").exists()
    assert not (tmp_path / "acme").exists()
    assert not list(tmp_path.glob(".acme.importing-*"))
    assert _hash_tree(src) == before


def test_hostile_filter_is_refused_with_its_key(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    mapping, src = _acme(tmp_path, filter_='@pd.io.common.os.system("id > pwned.txt")')
    code, _, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert (code, err) == (
        2,
        "acme.yaml: tables.leads.filter: not allowed in a mapping expression: '@' variable '@pd'\n",
    )
    assert not (tmp_path / "pwned.txt").exists() and not (tmp_path / "acme").exists()


def test_bad_syntax_and_type_clash_are_one_line(tmp_path, cli):
    mapping, src = _acme(tmp_path, derived={"is_won": "`Lead ID` =="})
    code, _, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert code == 2 and err.startswith("acme.yaml: tables.leads.derived.is_won: not a valid expression (")
    assert err.count("\n") == 1
    mapping, src = _acme(tmp_path, derived={"is_won": "`Lead ID` < 3"})
    code, _, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert code == 2 and err.startswith("acme.yaml: tables.leads.derived.is_won: cannot be evaluated (")
    assert err.count("\n") == 1 and not (tmp_path / "acme").exists()
    mapping, src = _acme(tmp_path, derived={"is_won": "`No such column` == 1"})
    code, _, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert code == 2 and err.startswith(
        "acme.yaml: tables.leads.derived.is_won: no column `No such column` (header has: Lead ID"
    )


def test_overlong_and_deeply_nested_expressions_are_one_line():
    deep = "+".join(["a"] * 990)
    for expr, msg in ((deep, "expression nested too deeply"), ("a" + " " * 2000, "expression longer than 2,000")):
        with pytest.raises(DataContractError, match=msg) as info:
            evaluate(expr, DF, "m.yaml: x")
        assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------------
# every allowed construct computes what pandas computes

DF = pd.DataFrame(
    {
        "a": [1.0, 2.5, np.nan, -3.0],
        "b": [2.0, 2.5, 1.0, 4.0],
        "Deal status": ["won", " Lost ", None, "open"],
        "when": ["2026-01-15", "2026-05-02 10:00", None, "2025-12-31"],
        "flag": [True, False, True, False],
    },
    index=pd.Index([2, 3, 5, 6], name="row"),
)
S = DF["Deal status"]
W = pd.to_datetime(DF["when"], format="mixed")

ALLOWED = {
    "a": DF["a"],
    "`Deal status`": S,
    "'text'": "text",
    "3": 3,
    "2.5": 2.5,
    "True": True,
    "None": None,
    "a + b": DF.a + DF.b,
    "a - b": DF.a - DF.b,
    "a * b": DF.a * DF.b,
    "a / b": DF.a / DF.b,
    "a // b": DF.a // DF.b,
    "a % b": DF.a % DF.b,
    "a ** 2": DF.a**2,
    "-a": -DF.a,
    "2 ** 10": 1024,
    "a == b": DF.a == DF.b,
    "a != b": DF.a != DF.b,
    "a < b": DF.a < DF.b,
    "a <= b": DF.a <= DF.b,
    "a > b": DF.a > DF.b,
    "a >= b": DF.a >= DF.b,
    "0 < a < 3": (DF.a > 0) & (DF.a < 3),
    "`Deal status` == 'won'": S == "won",
    "`Deal status` in ['won', 'open']": S.isin(["won", "open"]),
    "`Deal status` not in ('won',)": ~S.isin(["won"]),
    "(a > 1) and (b > 2)": (DF.a > 1) & (DF.b > 2),
    "(a > 1) or flag": (DF.a > 1) | DF.flag,
    "not flag": ~DF.flag,
    "(a > 1) & (b > 2)": (DF.a > 1) & (DF.b > 2),
    "(a > 1) | (b > 3)": (DF.a > 1) | (DF.b > 3),
    "~flag": ~DF.flag,
    "'big' if a > 1 else 'small'": pd.Series(np.where(DF.a > 1, "big", "small"), index=DF.index),
    "a if flag else b": DF.a.where(DF.flag, DF.b),
    "a.fillna(0)": DF.a.fillna(0),
    "a.fillna(b)": DF.a.fillna(DF.b),
    "a.where(a > 0, 0)": DF.a.where(DF.a > 0, 0),
    "`Deal status`.replace('won', 'W')": S.replace("won", "W"),
    "`Deal status`.replace({'won': 'W', 'open': 'O'})": S.replace({"won": "W", "open": "O"}),
    "a.isna()": DF.a.isna(),
    "a.notna()": DF.a.notna(),
    "`Deal status`.isin(['won'])": S.isin(["won"]),
    "a.abs()": DF.a.abs(),
    "a.round(0)": DF.a.round(0),
    "b.astype(str)": DF.b.astype(str),
    "b.astype(int)": DF.b.astype(int),
    "b.astype('float')": DF.b.astype(float),
    "`Deal status`.str.lower()": S.str.lower(),
    "`Deal status`.str.upper()": S.str.upper(),
    "`Deal status`.str.strip()": S.str.strip(),
    "`Deal status`.str.strip().str.lower() == 'lost'": S.str.strip().str.lower() == "lost",
    "`Deal status`.str.contains('o')": S.str.contains("o"),
    "`Deal status`.str.contains('LOST', case=False)": S.str.contains("LOST", case=False),
    "`Deal status`.str.startswith('w')": S.str.startswith("w"),
    "`Deal status`.str.endswith('n')": S.str.endswith("n"),
    "`Deal status`.str.len()": S.str.len(),
    "`Deal status`.str.replace('o', '0')": S.str.replace("o", "0"),
    "`Deal status`.str.slice(0, 2)": S.str.slice(0, 2),
    "when.dt.year": W.dt.year,
    "when.dt.month": W.dt.month,
    "when.dt.day": W.dt.day,
    "when.dt.quarter": W.dt.quarter,
    "when.dt.date": W.dt.date,
    "'@ and `backticks` in a string' == `Deal status`": S == "@ and `backticks` in a string",
}


def _norm(v):
    if isinstance(v, pd.Series):
        return [None if pd.isna(x) else x for x in v.tolist()]
    return v


@pytest.mark.parametrize("expr", list(ALLOWED))
def test_allowed_construct_matches_pandas(expr):
    value, _ = evaluate(expr, DF, "m.yaml: tables.leads.derived.x")
    expected = ALLOWED[expr]
    if isinstance(expected, pd.Series):
        assert isinstance(value, pd.Series) and value.index.equals(DF.index)
    assert _norm(value) == _norm(expected)


def test_evaluate_reports_the_columns_it_used():
    _, used = evaluate("`Deal status`.str.lower() == 'won' and a > b", DF, "m")
    assert used == ["Deal status", "a", "b"]


def test_filter_and_derived_end_to_end(tmp_path, cli):
    mapping, src = _acme(
        tmp_path,
        derived={"segment": "`Industry`.str.lower()", "is_hot": "Rating == 'Hot'"},
        filter_="`Lead Source` != 'Web' and not `Country`.isna()",
    )
    code, out, err = cli("import", "--from", mapping, src, "--out", tmp_path / "acme")
    assert code == 0, err
    raw = pd.read_csv(src / "leads.csv", dtype=str)
    kept = raw[(raw["Lead Source"] != "Web") & raw["Country"].notna()].sort_values("Lead ID")
    got = pd.read_csv(tmp_path / "acme" / "leads.csv", dtype=str)
    assert got["lead_id"].tolist() == kept["Lead ID"].tolist()
    assert got["segment"].tolist() == kept["Industry"].str.lower().tolist()
    assert got["is_hot"].tolist() == (kept["Rating"] == "Hot").astype(str).tolist()
    report = (tmp_path / "acme" / "import-report.md").read_text()
    assert "excluded by the mapping's filter" in report and "leads.segment = `Industry`.str.lower()" in report
    assert "Industry" not in report.split("## Columns left unused")[1].split("##")[0]


# ---------------------------------------------------------------------------------------------------
# raw exports are read-only


@pytest.fixture
def sf_exports(tmp_path) -> Path:
    """Salesforce reports saved as leads.csv and opportunities.csv."""
    src = tmp_path / "exports"
    src.mkdir()
    shutil.copy(SALESFORCE / "leads_report.csv", src / "leads.csv")
    shutil.copy(SALESFORCE / "opportunities_report.csv", src / "opportunities.csv")
    return src


def test_out_is_the_source_folder_is_refused(sf_exports, cli):
    before = _hash_tree(sf_exports)
    code, out, err = cli("import", "--from", "salesforce", sf_exports, "--out", sf_exports)
    assert code == 2
    assert err == (
        f"--out {sf_exports}: is the source folder {sf_exports}; raw exports are read-only, "
        "choose another output folder\n"
    )
    assert _hash_tree(sf_exports) == before


def test_out_holding_the_source_files_is_refused(sf_exports, cli):
    before = _hash_tree(sf_exports)
    files = [sf_exports / "leads.csv", sf_exports / "opportunities.csv"]
    code, _, err = cli("import", "--from", "salesforce", *files, "--out", sf_exports)
    assert code == 2
    assert err == (
        f"--out {sf_exports}: holds the source file {files[0]}; raw exports are read-only, "
        "choose another output folder\n"
    )
    code, _, err = cli("import", "--from", "salesforce", sf_exports, "--out", sf_exports.parent)
    assert code == 2 and err.startswith(f"--out {sf_exports.parent}: holds the source folder {sf_exports};")
    code, _, err = cli("import", "--from", "salesforce", sf_exports, "--out", sf_exports / "acme")
    assert code == 2 and err.startswith(f"--out {sf_exports / 'acme'}: is inside the source folder {sf_exports};")
    code, _, err = cli("import", "--from", "salesforce", files[0], "--out", files[0])
    assert code == 2 and err.startswith(f"--out {files[0]}: is the source file {files[0]};")
    assert _hash_tree(sf_exports) == before
    assert not (sf_exports / "acme").exists()


def test_out_beside_the_sources_imports(sf_exports, tmp_path, cli):
    before = _hash_tree(sf_exports)
    code, out, err = cli("import", "--from", "salesforce", sf_exports, "--out", tmp_path / "acme")
    assert code == 0, err
    assert {p.name for p in (tmp_path / "acme").iterdir()} >= {"leads.csv", "opportunities.csv", "audit.yaml"}
    assert _hash_tree(sf_exports) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme", "exports"]  # no temporary folder left


def test_failed_write_leaves_no_output_folder(sf_exports, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise DataContractError("disk full")

    monkeypatch.setattr(importers, "_write_report", boom)
    with pytest.raises(DataContractError, match="disk full"):
        import_data("salesforce", [sf_exports], tmp_path / "acme")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]


def test_failed_reimport_leaves_the_existing_folder_as_it_was(sf_exports, tmp_path, monkeypatch):
    out, _ = import_data("salesforce", [sf_exports], tmp_path / "acme")
    (out / "notes.txt").write_text("mine")
    before = _hash_tree(out)
    monkeypatch.setattr(importers, "_write_report", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        import_data("salesforce", [sf_exports], out)
    assert _hash_tree(out) == before
    monkeypatch.undo()
    import_data("salesforce", [sf_exports], out)  # a successful re-import replaces its files, keeps others
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme", "exports"]
