"""audit.yaml is checked before anything reads it (issue 11): good settings load; the bad ones and their one-line
messages are in the bad-input corpus, tests/test_bad_inputs.py."""

from __future__ import annotations

import pytest
from salesaudit.config import load_config
from salesaudit.errors import DataContractError


def test_good_settings_and_a_missing_named_file(tmp_path):
    (tmp_path / "audit.yaml").write_text(
        "gross_margin: 0.6\nextracted_at: 2026-10-02\nnew_channel: {name: podcast, leads: 150, reach_rate: 0.5, "
        "close_rate: 0.25}\nstages: {open: [A], won: [W], lost: [L]}\nchannels: [a, b]\n",
        encoding="utf-8",
    )
    cfg = load_config(tmp_path)
    assert cfg.gross_margin == 0.6 and str(cfg.extra["extracted_at"]) == "2026-10-02"
    with pytest.raises(DataContractError, match="nope.yaml: settings file not found"):
        load_config(tmp_path, "nope.yaml")
    assert load_config(tmp_path / "elsewhere").company == "Your company"  # no audit.yaml: the defaults


@pytest.mark.parametrize(
    ("text", "per_quarter", "period"),
    [
        ("revenue_target: {quarter: 250000}\n", 250_000.0, "quarter"),
        ("revenue_target: {year: 1000000}\n", 250_000.0, "year"),
        ("revenue_target: {year: '1,000,000'}\n", 250_000.0, "year"),
        ("revenue_target:\n", None, None),
    ],
)
def test_revenue_target_quarter_or_year(tmp_path, text, per_quarter, period):
    from salesaudit.config import revenue_target

    (tmp_path / "audit.yaml").write_text(text, encoding="utf-8")
    t = revenue_target(load_config(tmp_path))
    assert (t.per_quarter, t.period) == (per_quarter, period) if t else per_quarter is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revenue_target: 250000\n", r"audit.yaml: revenue_target: expected a mapping with one period .*got int$"),
        (
            "revenue_target: {month: 10}\n",
            r"audit.yaml: revenue_target: expected one period, quarter or year, got month$",
        ),
        (
            "revenue_target: {quarter: 1, year: 4}\n",
            r"audit.yaml: revenue_target: expected one period, quarter or year, got quarter, year$",
        ),
        ("revenue_target: {quarter: lots}\n", r"audit.yaml: revenue_target.quarter: 'lots' is not an amount"),
        ("revenue_target: {year: -5}\n", r"audit.yaml: revenue_target.year: -5 must be greater than 0$"),
        ("revenue_target: {year: true}\n", r"audit.yaml: revenue_target.year: True is not an amount"),
        ("revenue_targt: {year: 5}\n", r"revenue_targt: unknown setting \(did you mean revenue_target\?\)"),
    ],
)
def test_bad_revenue_target_is_one_line(tmp_path, text, message):
    (tmp_path / "audit.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataContractError, match=message) as err:
        load_config(tmp_path)
    assert "\n" not in str(err.value)
