"""Each real public dataset imports through its mapping in examples/ and the counts match direct pandas.

The datasets live outside the repository (licences: Olist is non-commercial, the UCI ones CC BY 4.0 and
not copied wholesale): ``../shared/data/real/<name>`` beside the project. Skipped when absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from salesaudit.data import io
from salesaudit.data.importers import import_data

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"

pytestmark = pytest.mark.slow


def _import(name: str, tmp_path: Path):
    folder = REAL / name
    if not folder.is_dir():
        pytest.skip(f"real dataset {name} not found at {folder} (the shared data folder is not mounted)")
    out, log = import_data(ROOT / "examples" / f"{name}.yaml", [folder], tmp_path / name)
    return folder, io.load(out, use_cache=False), log, out


def test_online_retail_orders_and_customers(tmp_path):
    folder, data, log, out = _import("uci-online-retail", tmp_path)
    raw = pd.read_csv(folder / "online_retail_subset_cust-mod4.csv", dtype={"InvoiceNo": str, "CustomerID": str})
    kept = raw[~raw["InvoiceNo"].str.startswith("C") & raw["CustomerID"].notna()]
    kept = kept[(kept["Quantity"] > 0) & (kept["UnitPrice"] >= 0)]
    assert len(data.orders) == kept["InvoiceNo"].nunique()
    assert len(data.leads) == kept["CustomerID"].nunique() == data.orders["customer_id"].nunique()
    value = (kept["Quantity"] * kept["UnitPrice"]).groupby(kept["InvoiceNo"]).sum()
    got = data.orders.set_index("order_id")["amount"].sort_index()
    assert got.index.tolist() == sorted(value.index) and got.to_numpy() == pytest.approx(value.sort_index().to_numpy())
    first = pd.to_datetime(kept["InvoiceDate"]).groupby(kept["CustomerID"]).min()
    assert data.leads.set_index("lead_id")["customer_at"].sort_index().tolist() == first.sort_index().tolist()
    cancellations = raw["InvoiceNo"].str.startswith("C").sum()
    assert any(f"{cancellations} rows, " in d and "starts with 'C'" in d for d in log.dropped)
    assert "guest checkout" in (out / "import-report.md").read_text()


def test_bank_marketing_is_an_undated_snapshot(tmp_path):
    folder, data, log, _ = _import("uci-bank-marketing", tmp_path)
    raw = pd.read_csv(folder / "bank-additional-full.csv", sep=";")
    leads = data.leads
    assert len(leads) == len(raw) and leads["created_at"].isna().all()
    assert (leads["stage_reached"] == "customer").sum() == (raw["y"] == "yes").sum() == 4640
    assert leads["channel"].value_counts().to_dict() == raw["contact"].value_counts().to_dict()
    assert leads["segment"].isna().sum() == (raw["job"] == "unknown").sum()
    assert "lead_score" not in leads.columns and not data.has("activities")


def test_itsm_incidents_become_tickets_read_day_first(tmp_path):
    folder, data, log, _ = _import("uci-itsm-incident-log", tmp_path)
    raw = pd.read_csv(next(folder.glob("incident_event_log*.csv")), na_values="?", dtype=str)
    per_incident = raw.groupby("number").agg(caller=("caller_id", "first"), opened=("opened_at", "first"))
    with_caller = per_incident[per_incident["caller"].notna()]
    assert len(data.tickets) == len(with_caller)
    assert len(data.leads) == raw["caller_id"].nunique()
    opened = pd.to_datetime(with_caller["opened"], format="%d/%m/%Y %H:%M")
    got = data.tickets.set_index("ticket_id")["opened_at"]
    assert (got.sort_index() == opened.sort_index()).all()  # 5/3/2016 is 5 March, never 3 May
    assert data.tickets.loc[data.tickets["ticket_id"] == "INC0000060", "opened_at"].iloc[0] == pd.Timestamp(
        "2016-02-29 06:38"
    )
    assert (data.tickets["first_response_at"] >= data.tickets["opened_at"]).all()
    assert any("no usable customer_id" in d for d in log.dropped)


def test_olist_customers_and_review_scores(tmp_path):
    folder, data, log, _ = _import("olist-ecommerce-sample", tmp_path)
    customers = pd.read_csv(folder / "olist_customers_dataset.csv")
    reviews = pd.read_csv(folder / "olist_order_reviews_dataset.csv")
    orders = pd.read_csv(folder / "olist_orders_dataset.csv")
    assert len(data.leads) == customers["customer_unique_id"].nunique()
    assert len(data.tickets) == len(reviews)
    assert data.tickets["csat"].value_counts().sort_index().tolist() == (
        reviews["review_score"].value_counts().sort_index().tolist()
    )
    never = orders[orders["order_status"].isin(["canceled", "unavailable"])].merge(customers, on="customer_id")
    assert (data.leads["stage_reached"] == "lead").sum() == never["customer_unique_id"].nunique()
    assert not data.has("orders")  # no order values in the sample: not invented
