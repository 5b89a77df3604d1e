"""audit.yaml is checked before anything reads it: one line naming the file and the key (issue 11)."""

from __future__ import annotations

import pytest
from salesaudit.config import load_config
from salesaudit.contract import DataContractError


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("roi_targt: 2\n", "audit.yaml: roi_targt: unknown setting (did you mean roi_target?)"),
        ("channels: paid_search\n", "audit.yaml: channels: expected a list (e.g. [a, b]), got str"),
        ("gross_margin: 7\n", "audit.yaml: gross_margin: 7 is outside 0–1 (a share: 0.7 means 70%)"),
        ("interval_level: 1.5\n", "audit.yaml: interval_level: 1.5 is outside 0–1 (e.g. 0.9 for 90% intervals)"),
        ("fiscal_year_start_month: 13\n", "audit.yaml: fiscal_year_start_month: 13 is not a month number 1–12"),
        ("stages: [Won]\n", "audit.yaml: stages: expected a mapping of open/won/lost to lists of stage names"),
        ("stages: {won: Closed Won}\n", "audit.yaml: stages.won: expected a list of stage names, got str"),
        ("roi_target: 0\n", "audit.yaml: roi_target: 0 must be greater than 0"),
        ("stale_content_days: -3\n", "audit.yaml: stale_content_days: -3 is not a whole number of days ≥ 0"),
        ("extracted_at: soon\n", "audit.yaml: extracted_at: 'soon' is not a date (write 2026-10-02)"),
        ("gross_margin: high\n", "audit.yaml: gross_margin: expected a number, got str"),
    ],
)
def test_bad_settings_give_one_line(tmp_path, yaml_text, message):
    (tmp_path / "audit.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DataContractError) as exc:
        load_config(tmp_path)
    assert str(exc.value) == message


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
