"""Slices (issue 16 parts 1–2): parsing, the rules that tie each table to the slice's leads, the slice's data
folder, the CLI's one-line errors, the slice comparison of the executive summary, and — the acceptance test —
a slice report's figures equal the full audit run on a data folder filtered by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from salesaudit.config import load_config
from salesaudit.data.io import load
from salesaudit.data.slices import (
    NOT_SLICED,
    configured_slices,
    not_sliced_note,
    parse_slice,
    slice_masks,
    slice_tables,
    write_slice_folder,
)
from salesaudit.errors import DataContractError
from salesaudit.report import build
from salesaudit.report import slices as slc

CFG = load_config(None, None)


# --------------------------------------------------------------------------------------------------
# parsing and folder names
# --------------------------------------------------------------------------------------------------
def test_parse_slice_and_label():
    sl = parse_slice(" Country = Germany , team=North ")
    assert sl.conditions == (("country", "Germany"), ("team", "North"))
    assert sl.spec == "country=Germany,team=North"
    assert sl.label == "country=Germany, team=North"
    assert sl.slug == "country-germany_team-north"
    assert not sl.channel_only and parse_slice("channel=events").channel_only


@pytest.mark.parametrize(
    "text, words",
    [
        ("region=EU", "unknown column 'region'"),
        ("country", "is not column=value"),
        ("country=", "has no value"),
        ("", "empty slice"),
        ("country=DE,country=FR", "given twice"),
    ],
)
def test_bad_slices_are_one_line(text, words):
    with pytest.raises(DataContractError) as exc:
        parse_slice(text)
    assert words in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("value", ["../../etc", "A/B", "Österreich", "x" * 200, "<script>", "..", " . "])
def test_slug_is_safe_and_distinct(value):
    try:
        sl = parse_slice(f"country={value}")
    except DataContractError:
        assert not value.strip()
        return
    slug = sl.slug
    assert all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in slug), slug
    assert slug.startswith("country-") and len(slug) <= 60 and ".." not in slug and "/" not in slug
    assert slug != parse_slice("country=other").slug


def test_slugs_of_values_that_clean_alike_differ():
    assert parse_slice("country=A/B").slug != parse_slice("country=A-B").slug


# --------------------------------------------------------------------------------------------------
# the rules, on small hand-made tables
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "channel": ["Paid Search", "organic", "paid_search", "events"],
            "country": ["Germany", " germany", "France", "Germany"],
            "segment": ["SMB", "SMB", "SMB", "Enterprise"],
            "owner_id": ["R1", "R2", "R1", None],
        }
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3", "O4"],
            "owner_id": ["R3", "R1", "R2", "R2"],
            "lead_id": ["L1", "L1", "L3", None],
            "product": ["Core", "Pro", "Core", "Core"],
        }
    )
    acts = pd.DataFrame(
        {
            "activity_id": ["A1", "A2", "A3", "A4", "A5"],
            "owner_id": ["R1", "R1", "R2", "R4", "R1"],
            "lead_id": ["L1", "L1", None, "L2", "L3"],
            "opportunity_id": [None, "O2", "O1", None, None],
        }
    )
    reps = pd.DataFrame(
        {"rep_id": ["R1", "R2", "R3", "R4", "R5"], "team": ["North", "South", "North", "South", "North"]}
    )
    spend = pd.DataFrame({"month": ["2026-01-01"] * 2, "channel": ["paid_search", "events"], "amount": [1.0, 2.0]})
    camps = pd.DataFrame({"campaign_id": ["C1", "C2"], "channel": ["paid search", "events"]})
    sends = pd.DataFrame({"send_id": ["S1", "S2"], "campaign_id": ["C1", "C2"]})
    orders = pd.DataFrame({"order_id": ["X1", "X2"], "customer_id": ["L1", "L3"]})
    nps = pd.DataFrame({"customer_id": ["L2", "L3"], "score": [9.0, 3.0]})
    return {
        "leads": leads,
        "opportunities": opps,
        "activities": acts,
        "reps": reps,
        "spend": spend,
        "campaigns": camps,
        "email_sends": sends,
        "orders": orders,
        "nps": nps,
    }


def _ids(out, table, col):
    return sorted(out[table][col]) if table in out else None


def test_country_slice_rules(tables):
    out = slice_tables(tables, parse_slice("country=GERMANY"), CFG)
    assert _ids(out, "leads", "lead_id") == ["L1", "L2", "L4"]  # spaces and case as the loader cleans them
    assert _ids(out, "opportunities", "opportunity_id") == ["O1", "O2"]  # O4 has no lead: in no slice
    assert _ids(out, "activities", "activity_id") == ["A1", "A2", "A3", "A4"]
    assert _ids(out, "orders", "order_id") == ["X1"] and _ids(out, "nps", "customer_id") == ["L2"]
    assert _ids(out, "reps", "rep_id") == ["R1", "R2", "R3", "R4"]  # who owns a kept lead, deal or activity
    assert _ids(out, "campaigns", "campaign_id") == ["C1", "C2"]  # a lookup: kept whole
    assert all(t not in out for t in NOT_SLICED)  # cannot be tied to leads: left out
    assert "spend, email_sends cannot be tied to leads" in not_sliced_note(parse_slice("country=x"), list(tables))


def test_team_slice_is_the_owners_team(tables):
    out = slice_tables(tables, parse_slice("team=north"), CFG)
    assert _ids(out, "leads", "lead_id") == ["L1", "L3"]  # owned by R1 (North); L4 has no owner
    assert _ids(out, "opportunities", "opportunity_id") == ["O1", "O2", "O3"]
    assert _ids(out, "reps", "rep_id") == ["R1", "R2", "R3", "R5"]  # the team, and R2 who owns the deal O3


def test_product_slice_keeps_only_that_products_deals(tables):
    out = slice_tables(tables, parse_slice("product=core"), CFG)
    assert _ids(out, "leads", "lead_id") == ["L1", "L3"]
    assert _ids(out, "opportunities", "opportunity_id") == ["O1", "O3"]
    # A2 is about the Pro deal of L1 (left out); A1 (the lead, no deal) and A3 (the Core deal) stay
    assert _ids(out, "activities", "activity_id") == ["A1", "A3", "A5"]


def test_channel_slice_keeps_that_channels_spend(tables):
    sl = parse_slice("channel=paid-search")
    out = slice_tables(tables, sl, CFG)
    assert _ids(out, "leads", "lead_id") == ["L1", "L3"]
    assert list(out["spend"]["channel"]) == ["paid_search"]
    assert _ids(out, "campaigns", "campaign_id") == ["C1"] and _ids(out, "email_sends", "send_id") == ["S1"]
    assert not_sliced_note(sl, list(tables)) == ""
    both = slice_tables(tables, parse_slice("channel=paid_search,segment=SMB"), CFG)
    assert "spend" not in both and _ids(both, "campaigns", "campaign_id") == ["C1"]


def test_and_of_conditions(tables):
    out = slice_tables(tables, parse_slice("country=Germany,segment=smb"), CFG)
    assert _ids(out, "leads", "lead_id") == ["L1", "L2"]


def test_masks_do_not_change_the_tables(tables):
    before = {t: df.copy() for t, df in tables.items()}
    slice_masks(tables, parse_slice("team=North"), CFG)
    for t, df in tables.items():
        pd.testing.assert_frame_equal(df, before[t])


@pytest.mark.parametrize(
    "spec, words",
    [
        ("country=Spain", "no lead matches (country values in the data: France, Germany"),
        ("country=Germany,segment=Mid", "no lead matches all of the conditions"),
        ("product=Nothing", "no lead matches"),
    ],
)
def test_no_match_is_one_line(tables, spec, words):
    with pytest.raises(DataContractError) as exc:
        slice_tables(tables, parse_slice(spec), CFG)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_a_column_the_data_lacks_is_one_line(tables):
    no_team = dict(tables, reps=tables["reps"].drop(columns="team"))
    with pytest.raises(DataContractError, match="reps has no team column"):
        slice_tables(no_team, parse_slice("team=North"), CFG)
    with pytest.raises(DataContractError, match="the leads have no segment column"):
        slice_tables(dict(tables, leads=tables["leads"].drop(columns="segment")), parse_slice("segment=SMB"), CFG)


# --------------------------------------------------------------------------------------------------
# settings, the slice's data folder, the CLI
# --------------------------------------------------------------------------------------------------
def test_slices_setting(tmp_path):
    (tmp_path / "audit.yaml").write_text("slices: [country=Germany, 'team=North,segment=SMB']\n")
    assert [s.spec for s in configured_slices(load_config(tmp_path))] == ["country=Germany", "team=North,segment=SMB"]
    (tmp_path / "audit.yaml").write_text("slices: country=Germany\n")
    with pytest.raises(DataContractError, match="slices: expected a list of slices"):
        load_config(tmp_path)
    (tmp_path / "audit.yaml").write_text("slices: [region=EU]\n")
    with pytest.raises(DataContractError, match="audit.yaml: slices 'region=EU': unknown column"):
        configured_slices(load_config(tmp_path))


def test_slice_folder_holds_the_raw_rows_and_leaves_the_data_alone(small_data, tmp_path):
    before = {p.name: p.read_bytes() for p in small_data.iterdir() if p.is_file()}
    files = {p.stem: p.name for p in small_data.glob("*.csv")}
    cfg = load_config(small_data)
    out = write_slice_folder(small_data, files, cfg, parse_slice("country=Germany"), tmp_path / "s")
    assert {p.name: p.read_bytes() for p in small_data.iterdir() if p.is_file()} == before
    leads = pd.read_csv(out / "leads.csv", dtype=str, keep_default_na=False)
    raw = pd.read_csv(small_data / "leads.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(leads, raw[raw["country"] == "Germany"].reset_index(drop=True))
    assert not (out / "spend.csv").exists()
    assert yaml.safe_load((out / "audit.yaml").read_text()) == yaml.safe_load((small_data / "audit.yaml").read_text())
    assert (out / "content.csv").read_bytes() == (small_data / "content.csv").read_bytes()


def test_a_slice_keeps_the_whole_datas_quarters_and_export_date(small_data):
    """A product's leads may stop weeks before the export does: the slice's quarters are complete or partial
    exactly when the whole data's are, and its extraction date is the export's."""
    whole = build.validate(small_data)
    sliced = build.prepare_slice(whole, "product=Enterprise")
    assert build.resolve_quarter(sliced, "latest").label == build.resolve_quarter(whole, "latest").label
    assert sliced.coverage.extracted_at == whole.coverage.extracted_at
    assert sliced.coverage.leads_window == whole.coverage.leads_window
    assert sliced.n_leads < whole.n_leads and sliced.origin == whole.data_dir
    raw = pd.read_csv(sliced.data_dir / "leads.csv", dtype=str)
    assert len(raw) == sliced.n_leads and pd.Timestamp(raw["created_at"].max()) <= whole.coverage.leads_window[1]


def test_cli_bad_slice_exits_2_with_one_line(small_data, tmp_path, capsys):
    from salesaudit.cli import main

    for spec, words in (("region=EU", "unknown column 'region'"), ("country=Atlantis", "no lead matches")):
        rc = main(["report", "--data", str(small_data), "--slice", spec, "--reports", str(tmp_path), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and words in err[0], err
    rc = main(["report", "--data", str(small_data), "--slices", "--reports", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "lists no slices" in err[-1]
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------------
# previous quarter and publishing: a slice is compared with the same slice only
# --------------------------------------------------------------------------------------------------
def _info(data_dir: Path, spec: str | None) -> build.DataInfo:
    cfg = load_config(None, None)
    sl = parse_slice(spec) if spec else None
    return build.DataInfo(
        data_dir / ("slice" if sl else ""), cfg, "k", None, None, 1, slice=sl, origin=data_dir if sl else None
    )


@pytest.mark.parametrize(
    "doc_slice, spec, same",
    [
        (None, None, True),
        (None, "country=Germany", False),
        ("country-germany", None, False),
        ("country-germany", "country=germany", True),
        ("country-germany", "country=France", False),
    ],
)
def test_same_source_needs_the_same_slice(tmp_path, doc_slice, spec, same):
    doc = {"data_dir": str(tmp_path), "company": "Your company"}
    if doc_slice:
        doc["slice"] = {"slug": doc_slice}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(doc))
    assert build._same_source(path, _info(tmp_path, spec)) is same


def test_republishing_the_full_report_keeps_its_slices(tmp_path):
    final = tmp_path / "2026Q3"
    (final / "country-germany").mkdir(parents=True)
    (final / "country-germany" / "summary.json").write_text("{}")
    (final / "stale.html").write_text("old")
    new = tmp_path / ".build-x"
    new.mkdir()
    (new / "summary.json").write_text('{"new": 1}')
    build._publish(new, final)
    assert (final / "country-germany" / "summary.json").read_text() == "{}"
    assert not (final / "stale.html").exists() and json.loads((final / "summary.json").read_text()) == {"new": 1}


def test_cover_names_the_slice():
    from datetime import datetime, timezone

    from salesaudit.periods import parse_quarter

    info = _info(Path("/x"), "team=North")
    info = build.DataInfo(**{**info.__dict__, "slice_note": "spend cannot be tied to leads"})
    html = build.assemble_html(
        [],
        company="Acme",
        quarter=parse_quarter("2026Q3"),
        built_at=datetime(2026, 10, 1, tzinfo=timezone.utc),
        data_range=(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-09-30")),
        n_leads=10,
        comparison="2026Q2 (report built earlier)",
        slice_line=build.slice_cover_line(info),
    )
    assert "<th>Slice</th><td>team=North: the leads matching it" in html
    assert "spend cannot be tied to leads" in html and "2026Q2 (report built earlier), the same slice" in html
    assert "2026Q3 · slice team=North" in html


# --------------------------------------------------------------------------------------------------
# slice comparison (executive summary, section 4)
# --------------------------------------------------------------------------------------------------
def _doc(label: str, figures: dict) -> dict:
    return {"slice": {"label": label, "slug": label}, "figures": {"05_sales_effectiveness": figures}}


def test_share_against_the_rest_uses_the_complement():
    from salesaudit import stats

    whole = {"value": 0.25, "n": 1000, "unit": "%"}
    part = {"value": 0.40, "n": 200, "unit": "%"}
    c = slc.compare_one(whole, part)
    d, lo, hi = stats.diff_interval(80, 200, 170, 800)
    assert c["diff"] == pytest.approx(0.40 - 170 / 800) and (c["lo"], c["hi"]) == pytest.approx((lo, hi))
    assert c["differs"] is True and c["method"].startswith("Newcombe")
    same = slc.compare_one(whole, {"value": 0.26, "n": 200, "unit": "%"})
    assert same["differs"] is False


def test_small_slices_cannot_be_told():
    c = slc.compare_one({"value": 0.25, "n": 1000, "unit": "%"}, {"value": 0.9, "n": 12, "unit": "%"})
    assert c["differs"] is None and c["method"] == "cannot be told (n = 12 < 30)"
    # n that is not a count of the slice's cases (the same backtest quarters in the slice and the whole)
    same_n = slc.compare_one({"value": 0.8, "n": 35, "unit": "%"}, {"value": 0.6, "n": 35, "unit": "%"})
    assert same_n["method"] == "no interval recorded"
    rest_small = slc.compare_one({"value": 0.25, "n": 220, "unit": "%"}, {"value": 0.9, "n": 200, "unit": "%"})
    assert rest_small["differs"] is None and "n = 20" in rest_small["method"]


def test_other_figures_use_the_recorded_intervals():
    whole = {"value": 40.0, "lo": 38.0, "hi": 42.0, "n": 900, "unit": "days"}
    c = slc.compare_one(whole, {"value": 60.0, "lo": 55.0, "hi": 65.0, "n": 100, "unit": "days"})
    assert c["diff"] == 20.0 and c["lo"] == pytest.approx(20 - math.hypot(5, 2)) and c["differs"] is True
    assert slc.compare_one({"value": 1.0, "unit": "ratio"}, {"value": 2.0, "unit": "ratio"})["differs"] is None


def test_comparison_table_and_sentences():
    current = {
        "win_rate": {"value": 0.25, "n": 1000, "unit": "%", "lo": 0.23, "hi": 0.27},
        "leads": {"value": 5000, "unit": "count"},
    }
    docs = [
        _doc("country=Germany", {"win_rate": {"value": 0.40, "n": 200, "unit": "%"}, "leads": {"value": 900}}),
        _doc("team=North", {"win_rate": {"value": 0.5, "n": 10, "unit": "%"}, "leads": {"value": 80}}),
    ]
    table = slc.comparison(current, docs)
    assert set(table["slice"]) == {"country=Germany", "team=North"}
    assert table.loc[table["name"] == "leads", "differs"].isna().all()  # totals get no verdict
    assert "mql" not in set(table["name"])  # totals other than the slice's size are left out
    shown = slc.comparison_display(table)
    assert shown.index.name == "Figure"
    assert list(shown.columns) == ["Slice", "Slice's value (90% interval)", "n", "Whole company", "Verdict"]
    assert "higher than the rest, beyond the noise" in set(shown["Verdict"])
    flagged = shown[shown["Verdict"].str.contains("beyond the noise")]
    assert flagged["n"].tolist() == ["n = 200"]  # a flagged row carries its n (the report linter's rule)
    said = " ".join(slc.comparison_sentences(table))
    assert "country=Germany: win rate 40.0% (n = 200) is above the rest of the company beyond the noise" in said
    assert "1 figure(s) could not be told apart" in said and "team=North: win rate" not in said
    assert "No slices were built" in slc.comparison_sentences(slc.comparison(current, []))[0]


def test_read_slice_reports(tmp_path):
    good = tmp_path / "a.json"
    good.write_text(json.dumps(_doc("country=Germany", {})))
    (tmp_path / "full.json").write_text(json.dumps({"figures": {}}))  # not a slice report: skipped
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([str(good), str(tmp_path / "full.json"), str(tmp_path / "missing.json")]))
    assert [d["slice"]["label"] for d in slc.read_slice_reports(listing)] == ["country=Germany"]
    assert slc.read_slice_reports("") == [] and slc.read_slice_reports("none") == []
    good.write_text(json.dumps(_doc("country=Germany", {}) | {"quarter": "2026Q2"}))
    assert slc.read_slice_reports(listing, "2026Q3") == [] and len(slc.read_slice_reports(listing, "2026Q2")) == 1


def test_scope_sentence_names_the_slice():
    assert slc.scope_sentences("", "2026Q2") == []
    said = slc.scope_sentences("country=Germany", "2026Q2")[0]
    assert "slice country=Germany" in said and "comparison with 2026Q2" in said


# --------------------------------------------------------------------------------------------------
# acceptance: a slice report equals the full audit of a data folder filtered by hand
# --------------------------------------------------------------------------------------------------
def _read(folder: Path, table: str) -> pd.DataFrame | None:
    p = folder / f"{table}.csv"
    return pd.read_csv(p, dtype=str, keep_default_na=False) if p.exists() else None


def filter_by_hand(src: Path, out: Path, column: str, value: str) -> Path:
    """The documented rules (docs/report.md, "Slices"), written out with pandas for one condition."""
    out.mkdir(parents=True)
    leads, reps, opps, acts = (_read(src, t) for t in ("leads", "reps", "opportunities", "activities"))
    if column == "team":
        team = reps.loc[reps["team"].str.casefold() == value.casefold(), "rep_id"]
        keep = leads["owner_id"].isin(team)
    else:
        keep = leads[column].str.strip().str.casefold() == value.casefold()
    lead_ids = set(leads.loc[keep, "lead_id"])
    o_keep = opps["lead_id"].isin(lead_ids)
    kept_opps, dropped = set(opps.loc[o_keep, "opportunity_id"]), set(opps.loc[~o_keep, "opportunity_id"])
    a_keep = acts["opportunity_id"].isin(kept_opps) | (
        acts["lead_id"].isin(lead_ids) & ~acts["opportunity_id"].isin(dropped)
    )
    owners = set(leads.loc[keep, "owner_id"]) | set(opps.loc[o_keep, "owner_id"]) | set(acts.loc[a_keep, "owner_id"])
    r_keep = reps["rep_id"].isin(owners) | ((reps["team"].str.casefold() == value.casefold()) & (column == "team"))
    out_tables = {"leads": leads[keep], "opportunities": opps[o_keep], "activities": acts[a_keep], "reps": reps[r_keep]}
    for t, key in (
        ("content_touches", "lead_id"),
        ("orders", "customer_id"),
        ("tickets", "customer_id"),
        ("nps", "customer_id"),
    ):
        df = _read(src, t)
        out_tables[t] = df[df[key].isin(lead_ids)]
    for t in ("campaigns", "content"):  # lookups, kept whole; spend, traffic, email_sends left out
        out_tables[t] = _read(src, t)
    for t, df in out_tables.items():
        df.to_csv(out / f"{t}.csv", index=False)
    settings = yaml.safe_load((src / "audit.yaml").read_text(encoding="utf-8"))
    cov = load(src).coverage  # the export's dates are the whole data's (docs/report.md, "Slices")
    settings["slice_of"] = {
        "leads_first": cov.leads_window[0].isoformat(),
        "leads_last": cov.leads_window[1].isoformat(),
        "extracted_at": cov.extracted_at.isoformat(),
        "extracted_source": f"the whole data's: {cov.extracted_source}",
    }
    (out / "audit.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return out


def _build(data_dir: Path, reports: Path, spec: str | None = None) -> dict:
    res = build.build_report(
        data_dir, "latest", reports_dir=reports, compare=False, pdf=False, progress=False, slice=spec
    )
    return json.loads(res.summary.read_text(encoding="utf-8")) | {"_out": str(res.out_dir)}


def _same(a, b, where=""):
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{where}: {sorted(set(a) ^ set(b))}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9, nan_ok=True), where
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def built(small_data, tmp_path_factory):
    """Four builds: two slices of the small demo and the same two cut by hand (≈ 1 minute each)."""
    reports = tmp_path_factory.mktemp("slice_reports")
    hand = tmp_path_factory.mktemp("by_hand")
    out = {}
    for key, (column, value) in {"country": ("country", "Germany"), "team": ("team", "North")}.items():
        out[key] = _build(small_data, reports, f"{column}={value}")
        folder = filter_by_hand(small_data, hand / key, column, value)
        out[f"{key}-hand"] = _build(folder, tmp_path_factory.mktemp(f"hand_{key}"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("key", ["country", "team"])
def test_slice_report_equals_the_audit_of_the_data_filtered_by_hand(built, key, small_data):
    sliced, hand = built[key], built[f"{key}-hand"]
    assert sliced["quarter"] == hand["quarter"]
    _same(sliced["figures"], hand["figures"], "figures")
    _same(sliced["headline"], hand["headline"], "headline")
    _same(sliced["findings"], hand["findings"], "findings")
    assert sliced["figures"]["01_sales_process"]["leads"]["value"] > 0
    hand_leads = pd.read_csv(Path(hand["data_dir"]) / "leads.csv", dtype=str)
    assert sliced["coverage"]["n_leads"] == hand["coverage"]["n_leads"] == len(hand_leads)
    assert len(hand_leads) < len(pd.read_csv(small_data / "leads.csv", dtype=str))  # a part of the company only


@pytest.mark.slow
def test_slice_report_lands_in_its_folder_and_says_the_slice(built, small_data):
    res = built["country"]
    out = Path(res["_out"])
    assert out.name == "country-germany" and out.parent.name == res["quarter"]
    assert res["slice"]["spec"] == "country=Germany" and res["data_dir"] == str(small_data)
    assert "spend, traffic, email_sends cannot be tied to leads" in res["slice"]["not_sliced"]
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "<th>Slice</th><td>country=Germany" in html
    assert "This report audits the slice country=Germany only" in html
    assert "slice" not in built["country-hand"]


@pytest.mark.slow
def test_small_slice_report_makes_no_claim_without_n(built):
    from salesaudit.report.lint import lint_report

    problems = [p for p in lint_report(Path(built["team"]["_out"])) if "claim without" in p.line()]
    assert problems == []


@pytest.mark.slow
def test_full_report_compares_its_slices_and_keeps_their_folders(built, small_data):
    """The fifth build: the full audit given the two slice reports (what ``--slices`` does after building them)."""
    country, team = (Path(built[k]["_out"]) for k in ("country", "team"))
    reports = country.parent.parent
    res = build.build_report(
        small_data,
        "latest",
        reports_dir=reports,
        compare=False,
        pdf=False,
        progress=False,
        slice_reports=[country / "summary.json", team / "summary.json"],
    )
    doc = json.loads(res.summary.read_text(encoding="utf-8"))
    assert "slice" not in doc and res.out_dir == country.parent
    assert (country / "summary.json").is_file() and (team / "summary.json").is_file()  # kept by the publish
    figs = doc["figures"]["00_executive_summary"]
    assert figs["slices_compared"]["value"] == 2
    html = res.html.read_text(encoding="utf-8")
    i = html.index("4. How do the slices compare?")
    section = html[i:]
    assert "country=Germany" in section and "team=North" in section and "Whole company" in section
    assert ("beyond the noise (difference" in section) == (figs["slices_beyond_noise"]["value"] > 0)
    assert "No slices were built" not in section
    from salesaudit.report.lint import lint_report

    assert [p.line() for p in lint_report(res.out_dir) if "00_executive" in p.line()] == []


def test_a_country_slice_takes_the_iso_code_or_any_name_of_the_country(tables):
    """country=DE (the code an analyst types) is the slice of the leads stored as "Germany", "DE" or
    "Deutschland"; a value that names no listed country is compared as it is."""
    import doctest

    from salesaudit.data import countries

    assert doctest.testmod(countries).failed == 0
    germany = slice_tables(tables, parse_slice("country=GERMANY"), CFG)
    for spec in ("country=DE", "country=de", "country=Deutschland"):
        out = slice_tables(tables, parse_slice(spec), CFG)
        assert _ids(out, "leads", "lead_id") == _ids(germany, "leads", "lead_id") == ["L1", "L2", "L4"], spec
    t = {**tables, "leads": tables["leads"].assign(country=["DE", "Deutschland", "France", " germany "])}
    assert _ids(slice_tables(t, parse_slice("country=DE"), CFG), "leads", "lead_id") == ["L1", "L2", "L4"]
    with pytest.raises(DataContractError):
        slice_tables(tables, parse_slice("country=Atlantis"), CFG)
