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
