"""``salesaudit.findings.Finding``: the one finding type of every step — its fields, validation and section."""

import dataclasses
import math

import numpy as np
import pytest
import salesaudit.findings as findings_module
from salesaudit.findings import FIGURE_PREFIX, Finding
from salesaudit.report import figures as reg


def test_fields_defaults_and_figure_name():
    f = Finding("funnel_leak_mql_sal", "MQL → SAL lost more leads.", 1200.0)
    assert (f.section, f.recommendation, f.basis) == ("", "", "")
    assert f.figure_name == "finding:funnel_leak_mql_sal" and f.figure_name.startswith(FIGURE_PREFIX)
    assert [x.name for x in dataclasses.fields(Finding)] == [
        "slug",
        "text",
        "impact",
        "section",
        "recommendation",
        "basis",
        "evidence",
    ]
    assert f.evidence is None and f.count is None
    assert "Finding" in findings_module.__all__


def test_frozen_and_comparable():
    f = Finding("a", "A.", 1.0, section="01_sales_process#3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.impact = 2.0  # type: ignore[misc]
    assert f == Finding("a", "A.", 1.0, section="01_sales_process#3") and hash(f) == hash(
        Finding("a", "A.", 1.0, "01_sales_process#3")
    )


def test_in_section_is_a_copy_with_the_section_set():
    f = Finding("rep_win_rate_gap", "Reps below the median …", 2500.0, recommendation="Pair them.", basis="wins × deal")
    g = f.in_section("05_sales_effectiveness#2")
    assert g.section == "05_sales_effectiveness#2" and f.section == ""  # the original is untouched
    assert dataclasses.replace(g, section="") == f
    assert g.in_section("x#1").section == "x#1"


def test_impact_is_stored_as_a_plain_float():
    f = Finding("a", "A.", np.float64(12.5))
    assert type(f.impact) is float and f.impact == 12.5
    assert type(Finding("a", "A.", 3).impact) is float and Finding("a", "A.", np.int64(3)).impact == 3.0
    assert Finding("none_at_stake", "No step got worse.", 0.0).impact == 0.0  # nothing at stake is a finding too


@pytest.mark.parametrize("impact", [math.nan, math.inf, -math.inf, np.nan, np.float64("inf")])
def test_impact_must_be_finite(impact):
    with pytest.raises(ValueError, match=r"finding 'a': impact must be finite"):
        Finding("a", "A.", impact)


@pytest.mark.parametrize("impact", [None, "1000", "lots", [1.0], True])
def test_impact_must_be_a_number(impact):
    with pytest.raises(ValueError, match=r"finding 'a': impact must be a number"):
        Finding("a", "A.", impact)  # type: ignore[arg-type]


@pytest.mark.parametrize("slug", ["", None, 7, b"x"])
def test_slug_must_be_a_non_empty_string(slug):
    with pytest.raises(ValueError, match="needs a slug"):
        Finding(slug, "A.", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "slug", ["funnel_leak_mql_sal", "channel_Paid search_lead_mql", "channel_LinkedIn Ads_sal_sql", "x", "dq-1"]
)
def test_a_valid_slug_names_a_registered_figure(slug):
    """What ``Finding`` accepts, the registry resolves as ``finding:<slug>`` (slugs may hold a channel's name)."""
    f = Finding(slug, "A.", 1.0)
    got = reg.lookup(f.figure_name)
    assert got is not None and got.unit == "money" and got.name == f.figure_name


def test_what_the_registry_refuses_finding_refuses():
    assert reg.lookup(FIGURE_PREFIX) is None  # "finding:" with an empty slug
    with pytest.raises(ValueError):
        Finding("", "A.", 1.0)


def test_the_steps_return_this_one_type():
    import salesaudit.reps
    import salesaudit.steps.sales as sales
    from salesaudit.steps.sales import story

    assert sales.Finding is Finding and story.Finding is Finding and salesaudit.reps.Finding is Finding
    assert "Finding" in sales.__all__
