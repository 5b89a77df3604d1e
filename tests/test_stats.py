import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from salesaudit import stats


def test_wilson_known_value():
    lo, hi = stats.wilson_interval(10, 100, level=0.95)
    assert np.isclose(lo, 0.0552, atol=1e-3) and np.isclose(hi, 0.1744, atol=1e-3)


@given(st.integers(0, 500), st.integers(0, 500))
def test_intervals_bracket_rate(k, extra):
    n = k + extra
    lo, hi = stats.wilson_interval(k, n)
    assert 0 <= lo <= hi <= 1
    if n:
        assert lo <= k / n + 1e-12 and k / n <= hi + 1e-12


def test_shrinkage_ranks_small_sample_below_large():
    # 3 of 4 wins must not outrank 60 of 100 once shrunk toward a team of ~40%
    k = np.array([3, 60, 40, 35, 38, 41])
    n = np.array([4, 100, 100, 100, 100, 100])
    out = stats.shrink_rates(k, n)
    assert out.loc[0, "raw"] > out.loc[1, "raw"]
    assert out.loc[0, "shrunk"] < out.loc[1, "shrunk"]
    assert (out["lo"] <= out["shrunk"]).all() and (out["shrunk"] <= out["hi"]).all()


def test_kaplan_meier_censoring():
    # 4 leads: events at 1 and 3; one censored at 2, one censored at 5
    km = stats.kaplan_meier([1, 2, 3, 5], [True, False, True, False])
    s = dict(zip(km["time"], km["survival"]))
    assert np.isclose(s[1.0], 0.75)
    assert np.isclose(s[2.0], 0.75)  # censoring is not a failure
    assert np.isclose(s[3.0], 0.75 * (1 - 1 / 2))
    assert stats.km_median(km) == 3.0
    assert np.isclose(stats.km_at(km, 10), 0.375)


def test_auc():
    assert stats.auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert stats.auc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5


def test_diff_interval_excludes_zero_only_for_real_change():
    d, lo, hi = stats.diff_interval(300, 1000, 200, 1000)
    assert lo > 0
    d, lo, hi = stats.diff_interval(31, 100, 30, 100)
    assert lo < 0 < hi


def test_add_rate_does_not_mutate():
    df = pd.DataFrame({"k": [1, 2], "n": [2, 4]})
    out = stats.add_rate(df, "k", "n", "rate")
    assert "rate" not in df.columns and out["rate"].tolist() == [0.5, 0.5]


def test_total_interval_compound_poisson():
    total, lo, hi = stats.total_interval([100.0, 100.0, 100.0, 100.0], level=0.90)
    half = 1.6448536 * np.sqrt(4 * 100.0**2)
    assert total == 400.0 and np.isclose(lo, 400 - half) and np.isclose(hi, 400 + half)
    assert stats.total_interval([5000.0])[1] == 0.0  # clipped at zero
    assert stats.total_interval([]) == (0.0, 0.0, 0.0)
