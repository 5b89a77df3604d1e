"""The contract: pandera models agree with COLUMNS and the docs; good frames pass, bad frames fail."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from salesaudit.data.contract import COLUMNS, MODELS, TABLES

ROOT = Path(__file__).resolve().parents[1]


def test_models_cover_every_column():
    for table, cols in COLUMNS.items():
        schema = MODELS[table].to_schema()
        assert set(schema.columns) == {c.name for c in cols}, table
        for c in cols:
            assert schema.columns[c.name].required == c.required, (table, c.name)


def _doc_tables() -> dict[str, list[tuple[str, bool, str]]]:
    text = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    out: dict[str, list] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^### `(\w+)`", line)
        if m:
            current = m.group(1)
            out[current] = []
            continue
        m = re.match(r"^\| `(\w+)` \| (✱?) \| (\w+) \|", line)
        if m and current:
            out[current].append((m.group(1), m.group(2) == "✱", m.group(3)))
    return out


def test_docs_agree_with_code():
    docs = _doc_tables()
    assert list(docs) == list(TABLES)
    for table, cols in COLUMNS.items():
        assert docs[table] == [(c.name, c.required, c.kind) for c in cols], table


def _good_leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "channel": ["paid_search", "events"],
            "lead_score": [10.0, None],
        }
    )


def test_good_frame_passes():
    MODELS["leads"].validate(_good_leads(), lazy=True)


@pytest.mark.parametrize(
    "table,frame,check",
    [
        ("leads", _good_leads().assign(lead_id=["L1", "L1"]), "field_uniqueness"),
        ("leads", _good_leads().assign(lead_score=[101.0, 5.0]), "less_than_or_equal_to"),
        ("leads", _good_leads().drop(columns="channel"), "column_in_dataframe"),
        (
            "spend",
            pd.DataFrame({"month": pd.to_datetime(["2026-01-01"]), "channel": ["x"], "amount": [-5.0]}),
            "greater_than_or_equal_to",
        ),
        (
            "email_sends",
            pd.DataFrame(
                {
                    "send_id": ["S1"],
                    "stream": ["news"],
                    "sent_at": pd.to_datetime(["2026-01-01"]),
                    "recipients": [10.0],
                    "opens": [11.0],
                    "clicks": [1.0],
                }
            ),
            "opens must not exceed recipients",
        ),
        (
            "nps",
            pd.DataFrame({"customer_id": ["L1"], "answered_at": pd.to_datetime(["2026-01-01"]), "score": [11.0]}),
            "less_than_or_equal_to",
        ),
        (
            "tickets",
            pd.DataFrame(
                {"ticket_id": ["T1"], "customer_id": ["L1"], "opened_at": pd.to_datetime(["2026-01-01"]), "csat": [0.0]}
            ),
            "greater_than_or_equal_to",
        ),
    ],
)
def test_bad_frames_fail(table, frame, check):
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        MODELS[table].validate(frame, lazy=True)
    checks = exc.value.failure_cases["check"].astype(str)
    assert checks.str.contains(check).any(), checks.tolist()
