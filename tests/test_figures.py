"""The figure registry (``salesaudit.report.figures``): complete, documented, and enforced by ``record()``.

* every ``rec.record("name", …)`` in a notebook names a registered figure, with the registry's unit and
  direction (read from the notebooks' source with ``ast``, and from notebooks 01–07 executed on the
  small demo);
* every registered figure is recorded somewhere and has a row in ``docs/metrics.md``;
* ``record()`` fills label, unit and direction from the registry and refuses a clash or an unknown name.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from salesaudit.report import figures as reg
from salesaudit.report import record as rec
from salesaudit.report.summary import HEADLINE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STEPS = [p.stem for p in NOTEBOOKS if not p.stem.startswith("00")]
RECORD_CALLS = ("record", "record_finding", "record_many", "record_findings")


# --------------------------------------------------------------------------------------------------
# what the notebooks record, read from their source
# --------------------------------------------------------------------------------------------------
def _record_calls() -> list[tuple[str, ast.Call]]:
    """(notebook stem, call) for every ``<x>.record(...)`` in the notebooks' code cells."""
    out = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = ast.parse("".join(cell["source"]))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record":
                    out.append((path.stem, node))
    return out


CALLS = _record_calls()


def _literal_names() -> dict[str, list[tuple[str, ast.Call]]]:
    """``{name: [(notebook, call), …]}`` of the calls whose name is a string literal."""
    out: dict[str, list[tuple[str, ast.Call]]] = {}
    for nb, call in CALLS:
        if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            out.setdefault(call.args[0].value, []).append((nb, call))
    return out


def _fstring_patterns() -> list[tuple[str, re.Pattern]]:
    """(notebook, regex) for the calls whose name is an f-string (``f"repeat_rate_{grp}_csat"``)."""
    out = []
    for nb, call in CALLS:
        if call.args and isinstance(call.args[0], ast.JoinedStr):
            parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"[a-z0-9_]+" for v in call.args[0].values]
            out.append((nb, re.compile("".join(parts) + "$")))
    return out


LITERALS = _literal_names()
FSTRINGS = _fstring_patterns()


def _kw(call: ast.Call, name: str):
    """The literal value of keyword ``name`` (``KeyError`` when absent, ``ValueError`` when not a literal)."""
    for k in call.keywords:
        if k.arg == name:
            return ast.literal_eval(k.value)
    raise KeyError(name)


@pytest.mark.parametrize("name", sorted(LITERALS))
def test_every_name_a_notebook_records_is_registered_with_its_unit_and_direction(name):
    fig = reg.lookup(name)
    assert fig is not None, f"{name!r} is recorded by {LITERALS[name][0][0]} but not registered"
    for nb, call in LITERALS[name]:
        assert fig.step == nb, f"{name!r} is recorded by {nb}, registered for {fig.step}"
        for kw, want in (("unit", fig.unit), ("higher_is_better", fig.higher_is_better)):
            try:
                got = _kw(call, kw)
            except KeyError:
                continue  # taken from the registry
            assert got == want, f"{nb}: {name!r} is recorded with {kw}={got!r}, registered {want!r}"


def test_fstring_names_match_registered_figures():
    for nb, pattern in FSTRINGS:
        hits = [n for n, f in reg.FIGURES.items() if pattern.match(n) and f.step == nb]
        assert hits, f"{nb}: no registered figure matches {pattern.pattern}"


def _string_constants() -> set[str]:
    """Every string literal in the notebooks' code and in the step packages (where story builds the payloads
    of the recorded figures), plus the literal parts of f-strings."""
    sources = [
        "".join(c["source"]) for p in NOTEBOOKS for c in json.loads(p.read_text())["cells"] if c["cell_type"] == "code"
    ]
    sources += [p.read_text(encoding="utf-8") for p in (ROOT / "lib" / "salesaudit" / "steps").rglob("*.py")]
    out: set[str] = set()
    for src in sources:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
            elif isinstance(node, ast.JoinedStr):  # f"repeat_rate_{grp}_csat" → a pattern
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9_]+" for v in node.values]
                out.add("re:" + "".join(parts) + "$")
    return out


def test_every_registered_figure_is_named_by_a_notebook_or_a_step():
    """No dead entry: each registered name is written somewhere that records it (a notebook's call, or a step's
    figure payloads); the executed-notebook test below checks the recorded ones against the registry."""
    named = _string_constants()
    patterns = [re.compile(x[3:]) for x in named if x.startswith("re:")]
    unused = [
        n for n in reg.FIGURES if n not in reg.PATTERNS and n not in named and not any(p.match(n) for p in patterns)
    ]
    assert not unused, f"registered but named by no notebook or step: {unused}"


def test_figures_a_step_builds_are_accepted_by_record():
    from salesaudit.steps.reporting.story import score_figures

    scores = pd.DataFrame({"table": ["leads", "orders"], "score": [90.0, 80.0], "checks": [3, 2]})
    out = rec.record_many(score_figures(scores, 85.0, 5, "04_reporting#2"))
    assert [f["salesaudit_figure"] for f in out] == ["dq_score", "dq_score_leads", "dq_score_orders"]
    assert {f["unit"] for f in out} == {"score"}


# --------------------------------------------------------------------------------------------------
# what the notebooks record when executed (small demo)
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("notebook", STEPS)
def test_executed_notebook_records_registered_figures(run_nb, small_data, notebook):
    _, figs = run_nb(notebook, small_data, "2026Q3")
    assert figs, f"{notebook} recorded nothing"
    for name, payload in figs.items():
        fig = reg.lookup(name)
        assert fig is not None, f"{notebook} recorded {name!r}, which is not registered"
        assert payload["unit"] == fig.unit, name
        assert payload["higher_is_better"] == fig.higher_is_better, name
        assert fig.step in (notebook, ""), name


# --------------------------------------------------------------------------------------------------
# the registry itself, the docs, the executive summary
# --------------------------------------------------------------------------------------------------
def test_registry_entries_are_well_formed():
    stems = {p.stem for p in NOTEBOOKS}
    assert len(reg.FIGURES) >= 100
    for key, f in reg.FIGURES.items():
        assert f.name == key
        assert f.unit in reg.UNITS, key
        assert f.higher_is_better in (True, False, None), key
        assert f.step in stems or (key == "finding:<slug>" and f.step == ""), key
        assert f.label and f.definition and "\n" not in f.definition, key


def _docs_names() -> set[str]:
    """Names in backticks in the first cell of the table rows of docs/metrics.md."""
    names: set[str] = set()
    for line in (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first = line.split("|")[1]
            names |= set(re.findall(r"`([^`]+)`", first))
    return names


def test_every_registered_figure_has_a_row_in_metrics_md():
    missing = sorted(set(reg.FIGURES) - _docs_names())
    assert not missing, f"no row in docs/metrics.md for {missing}"


def test_headline_figures_are_registered_with_the_same_direction():
    for name, _label, higher in HEADLINE:
        fig = reg.lookup(name)
        assert fig is not None, name
        assert fig.higher_is_better is higher, name
        assert fig.step not in ("", "00_executive_summary"), name


def test_lookup_resolves_the_patterns():
    f = reg.lookup("dq_score_opportunities")
    assert (f.name, f.unit, f.higher_is_better, f.step) == ("dq_score_opportunities", "score", True, "04_reporting")
    assert f.label == "Data-quality score: opportunities"
    g = reg.lookup("finding:channel_paid_search_sal_sql")
    assert (g.name, g.unit, g.higher_is_better) == ("finding:channel_paid_search_sal_sql", "money", None)
    assert reg.lookup("dq_score_not_a_table") is None
    assert reg.lookup("finding:") is None
    assert reg.lookup("dq_score_<table>") is None and reg.lookup("finding:<slug>") is not None  # a slug is a slug
    assert reg.lookup("win_rate") is reg.FIGURES["win_rate"]


# --------------------------------------------------------------------------------------------------
# record() uses the registry
# --------------------------------------------------------------------------------------------------
def test_record_fills_label_unit_and_direction_from_the_registry():
    p = rec.record("win_rate", 0.25, n=40)
    assert (p["unit"], p["higher_is_better"], p["label"]) == ("%", True, reg.FIGURES["win_rate"].label)
    p = rec.figure("sales_cycle_days", 30.0)
    assert (p["unit"], p["higher_is_better"]) == ("days", False)
    p = rec.figure("marketing_spend", 1000.0)
    assert (p["unit"], p["higher_is_better"]) == ("money", None)


def test_a_given_label_wins_over_the_registry():
    p = rec.record("reps_needed", 2, label="Extra reps needed for 2026Q4")
    assert p["label"] == "Extra reps needed for 2026Q4" and p["unit"] == "count"


def test_record_accepts_what_the_registry_says():
    p = rec.record("tickets", 12, unit="count", higher_is_better=None)
    assert p["higher_is_better"] is None
    p = rec.record_finding("x_slug", "Something costs money.", impact=1000.0, section="01_sales_process#1")
    assert (p["unit"], p["higher_is_better"], p["kind"]) == ("money", None, "finding")


def test_record_refuses_a_unit_that_disagrees():
    with pytest.raises(ValueError, match=r"'win_rate'.*unit 'count'.*'%'"):
        rec.record("win_rate", 0.25, unit="count")
    with pytest.raises(ValueError, match="'dq_score_leads'"):
        rec.figure("dq_score_leads", 90.0, unit="%")


def test_record_refuses_a_direction_that_disagrees():
    with pytest.raises(ValueError, match=r"'sales_cycle_days'.*higher_is_better=True"):
        rec.record("sales_cycle_days", 30.0, higher_is_better=True)
    with pytest.raises(ValueError, match="'win_rate'"):
        rec.record("win_rate", 0.25, higher_is_better=None)  # None is a value: "neither"


def test_record_refuses_an_unknown_name():
    with pytest.raises(ValueError, match=r"figure 'x' is not in salesaudit.report.figures: add it there"):
        rec.record("x", 1)
    with pytest.raises(ValueError, match="dq_score_nonsense"):
        rec.record("dq_score_nonsense", 1.0)


def test_figure_alone_builds_payloads_of_unregistered_names():
    """Tests and tools build payloads of made-up figures (``figure("w", …)``); only record() is strict."""
    p = rec.figure("w", 0.2, unit="%", n=10)
    assert (p["unit"], p["higher_is_better"], p["label"]) == ("%", None, "W")
    assert rec.figure("x", 1)["unit"] == ""


def test_the_previous_quarter_runs_exactly_the_notebooks_that_record_headline_figures():
    """The comparison needs the headline figures only: build.comparison_steps keeps the step notebooks the
    registry names for them (02 and 03 record none), and every headline figure's notebook is among them."""
    from salesaudit.config import NOTEBOOKS_DIR
    from salesaudit.report import build
    from salesaudit.report.figures import lookup

    steps, _ = build.discover_notebooks(NOTEBOOKS_DIR)
    kept = [p.stem for p in build.comparison_steps(steps)]
    assert kept == [
        "01_sales_process",
        "04_reporting",
        "05_sales_effectiveness",
        "06_customer_service",
        "07_spend_planning",
    ]
    assert {lookup(name).step for name, _, _ in HEADLINE} == set(kept)
