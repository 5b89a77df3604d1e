"""The simulated demo company, *Northwind Devices (demo)*, with its ground truth.

``generate(out_dir, seed=7)`` writes the 13 contract tables as CSV, an ``audit.yaml`` and a
``truth.json`` that records every structure planted in the data (response curves, seasonality,
stage conversion rates and delays per channel, rep skills and capacity, e-mail stream rates,
content lifts, service → repeat-purchase link, the podcast's short history and injected
data-quality faults at exact counts). Tests and notebooks check that the audit recovers it.

How the rates are defined (so a recovery test knows what to compare with):

* ``channels[ch].rates`` are *marginal* probabilities. Every per-lead effect (lead score, content
  touches, speed-to-lead, rep skill, rep ramp) is a log-odds shift; for each channel and stage the
  intercept is solved numerically so that the average probability over that channel's leads at
  that stage equals the truth rate. A channel's empirical rate on mature cohorts therefore equals
  the truth within sampling noise, whatever the rep or content mix.
* ``mql_sal`` × ``sal_sql`` is drawn as one Bernoulli (lead reaches SQL given MQL); SAL for the
  ones that do not reach SQL is drawn so that P(SAL | MQL) equals ``mql_sal`` exactly.
* Content lifts are odds multipliers relative to the same lead without the touch: ``lift_mql_sql``
  applies to touches between ``mql_at`` and the SQL decision, ``lift_sql_customer`` to touches
  during the deal (between ``sql_at`` and the close).

Everything is vectorised (loops only over channels, months, reps and assets) and deterministic:
the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.special import expit, ndtri

from salesaudit.data.contract import TABLES

__all__ = ["generate", "COMPANY", "CHANNELS", "PAID_CHANNELS", "EMAIL_STREAMS", "PRODUCTS"]

COMPANY = "Northwind Devices (demo)"  # the demo's name in audit.yaml; salesaudit.report.lint tells demo reports by it
DAY = 86400.0
HOUR = 3600.0
MONTH_DAYS = 30.4375

CHANNELS = ["paid_search", "paid_social", "events", "webinar", "organic", "referral", "partner", "podcast"]
PAID_CHANNELS = ["paid_search", "paid_social", "events", "webinar", "partner", "podcast"]
STAGES = ("lead_mql", "mql_sal", "sal_sql", "sql_customer")
SEGMENTS = ["SMB", "Mid-market", "Enterprise"]
SEGMENT_MULT = np.array([0.45, 1.0, 2.4])
PRODUCTS = ["Core", "Pro Suite", "Enterprise"]
PRODUCT_BY_SEGMENT = np.array([[0.75, 0.22, 0.03], [0.35, 0.50, 0.15], [0.05, 0.35, 0.60]])
OPEN_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation"]
COUNTRIES = [
    "Germany",
    "United Kingdom",
    "Netherlands",
    "France",
    "Belgium",
    "Austria",
    "Switzerland",
    "Sweden",
    "Spain",
    "Denmark",
]
COUNTRY_P = np.array([0.28, 0.14, 0.12, 0.12, 0.06, 0.06, 0.06, 0.06, 0.05, 0.05])

# Jan..Dec, normalised to mean 1 below: dips in August and December, peaks in March and September/October.
_SEASON_RAW = np.array([0.90, 0.95, 1.15, 1.0, 1.0, 0.95, 1.0, 0.80, 1.15, 1.25, 1.10, 0.75])
SEASONALITY = _SEASON_RAW / _SEASON_RAW.mean()

# share: of the monthly lead volume; cpl: cost per lead at base spend; sat: base spend / k of the Hill
# curve (>1 = saturated); h: Hill exponent; visit: visits → lead rate; rates: lead_mql, mql_sal,
# sal_sql, sql_customer; days: median stage delays; deal: average deal size (EUR); seg: SMB/MM/ENT mix;
# touch: pre-SQL content touches per MQL.
CHANNEL_SPEC: dict[str, dict[str, Any]] = {
    "paid_search": dict(
        share=0.24,
        cpl=120.0,
        sat=1.5,
        h=1.3,
        visit=0.030,
        rates=(0.40, 0.60, 0.50, 0.28),
        days=(3, 4, 10, 55),
        deal=14000,
        seg=(0.50, 0.35, 0.15),
        touch=0.9,
    ),
    "paid_social": dict(
        share=0.17,
        cpl=65.0,
        sat=1.1,
        h=1.6,
        visit=0.012,
        rates=(0.28, 0.50, 0.40, 0.18),
        days=(4, 5, 12, 45),
        deal=9000,
        seg=(0.65, 0.28, 0.07),
        touch=0.7,
    ),
    "events": dict(
        share=0.07,
        cpl=260.0,
        sat=0.8,
        h=2.0,
        visit=0.080,
        rates=(0.45, 0.65, 0.50, 0.25),
        days=(2, 3, 10, 75),
        deal=22000,
        seg=(0.30, 0.40, 0.30),
        touch=1.1,
    ),
    "webinar": dict(
        share=0.10,
        cpl=90.0,
        sat=0.7,
        h=1.2,
        visit=0.060,
        rates=(0.50, 0.60, 0.45, 0.25),
        days=(2, 4, 12, 60),
        deal=12000,
        seg=(0.45, 0.40, 0.15),
        touch=1.3,
    ),
    "organic": dict(
        share=0.22,
        visit=0.020,
        rates=(0.35, 0.60, 0.50, 0.30),
        days=(5, 4, 10, 55),
        deal=13000,
        seg=(0.55, 0.33, 0.12),
        touch=1.0,
    ),
    "referral": dict(
        share=0.08,
        visit=0.100,
        rates=(0.60, 0.80, 0.65, 0.45),
        days=(2, 2, 7, 40),
        deal=18000,
        seg=(0.35, 0.40, 0.25),
        touch=0.8,
    ),
    "partner": dict(
        share=0.12,
        cpl=320.0,
        sat=0.9,
        h=1.4,
        visit=0.050,
        rates=(0.55, 0.75, 0.60, 0.40),
        days=(3, 3, 9, 65),
        deal=20000,
        seg=(0.25, 0.40, 0.35),
        touch=0.9,
    ),
    "podcast": dict(
        share=0.08,
        cpl=100.0,
        sat=0.5,
        h=1.3,
        visit=0.015,
        rates=(0.38, 0.60, 0.50, 0.30),
        days=(4, 4, 10, 50),
        deal=15000,
        seg=(0.45, 0.40, 0.15),
        touch=1.0,
    ),
}
SPEND_SD = 0.35  # lognormal sd of monthly spend around its base
SPEND_GROWTH = 0.20  # budget growth per year (centred on the middle of the period)
ORGANIC_TREND = 0.20  # organic growth per year (centred on the middle of the period)
DELAY_SD = 0.7  # lognormal sd of stage delays
AMOUNT_SD = 0.55  # lognormal sd of deal amounts
REFERRAL_BASE_SHARE = 0.045  # referral leads/month not explained by promoters, as a share of volume
REFERRALS_PER_PROMOTER = 0.30

MQL_SCORE_THRESHOLD = 40
SCORE_RHO = 0.8  # corr(latent quality, score signal)
SCORE_BETA = 2.0  # log-odds of reaching SQL per sd of latent quality
WIN_GAMMA = 0.3  # log-odds of winning per sd of latent quality
SPEED_EFFECT = -0.15  # log-odds of reaching SQL per doubling of hours to first contact (≥ 1 h)
SCORE_BREAKEVEN_SQL_RATE = 0.25
RAMP_MONTHS = 3
RAMP_PENALTY = -0.8
RECYCLE_REASON = "recycled to nurture"
DQ_REASONS = ["no response", "not a fit", "no budget", "timing", "competitor", "invalid contact"]
DQ_P = np.array([0.35, 0.25, 0.18, 0.10, 0.06, 0.06])
LOST_REASONS = ["price", "no decision", "competitor", "timing", "missing feature", "budget cut"]
LOST_P = np.array([0.30, 0.25, 0.20, 0.12, 0.08, 0.05])
TICKET_CATEGORIES = ["how-to", "bug", "billing", "onboarding", "outage", "feature request"]
TICKET_P = np.array([0.32, 0.24, 0.16, 0.14, 0.06, 0.08])

# stream: open rate (opens/recipients), click-to-open, unsubscribe rate, base list size, weekday offset
EMAIL_STREAMS: dict[str, tuple[float, float, float, int, int]] = {
    "newsletter": (0.32, 0.12, 0.002, 9000, 1),
    "nurture": (0.27, 0.15, 0.003, 4000, 2),
    "product_updates": (0.38, 0.10, 0.001, 6000, 3),
    "webinar_invites": (0.24, 0.20, 0.002, 7000, 1),
    "promotions": (0.14, 0.06, 0.006, 11000, 4),
}

# id, title, type, lift_mql_sql, lift_sql_customer, pre-SQL weight, deal weight, channel affinity
CONTENT_SPEC: list[tuple[str, str, str, float, float, float, float, dict[str, float]]] = [
    (
        "CT01",
        "Customer story: Contoso cut onboarding time by 40%",
        "case study",
        1.8,
        1.0,
        1.0,
        1.0,
        {"referral": 3, "partner": 3},
    ),
    ("CT02", "ROI calculator", "tool", 1.0, 1.7, 0.6, 2.0, {}),
    ("CT03", "Product tour video", "video", 1.5, 1.0, 1.5, 0.5, {"paid_social": 2}),
    ("CT04", "Security and compliance whitepaper", "whitepaper", 1.0, 1.5, 0.5, 1.5, {"events": 1.5, "partner": 1.5}),
    ("CT05", "Partner programme overview", "brochure", 1.0, 1.0, 0.7, 0.4, {"partner": 5, "referral": 3}),
    ("CT06", "Buyer's guide to device fleets", "guide", 1.0, 1.0, 2.0, 0.6, {}),
    ("CT07", "Pricing FAQ", "faq", 0.8, 1.0, 1.2, 0.8, {"paid_search": 1.5}),
    ("CT08", "Webinar recording: automating inventory", "webinar recording", 1.0, 1.0, 1.2, 0.3, {"webinar": 3}),
    ("CT09", "Competitor comparison sheet", "comparison", 1.0, 0.8, 0.8, 1.2, {"paid_search": 1.5}),
    ("CT10", "Implementation checklist", "checklist", 1.0, 1.0, 0.6, 1.0, {}),
    ("CT11", "Industry benchmark report", "report", 1.0, 1.0, 1.0, 0.4, {"organic": 2}),
    ("CT12", "Customer story: Fabrikam scales to 20 sites", "case study", 1.0, 1.0, 0.8, 0.8, {"events": 2}),
    ("CT13", "Blog: 10 KPIs for device fleets", "blog post", 1.0, 1.0, 1.5, 0.2, {"organic": 3}),
    ("CT14", "Infographic: total cost of ownership", "infographic", 1.0, 1.0, 0.7, 0.5, {"paid_social": 2}),
    ("CT15", "API documentation overview", "documentation", 1.0, 1.0, 0.4, 1.0, {}),
    ("CT16", "Podcast episode: the device-ops show", "podcast episode", 1.0, 1.0, 0.0, 0.0, {"podcast": 1}),
]
STALE_CONTENT = ("CT06",)

REP_NAMES = [
    "Anna Berg",
    "Ben Okafor",
    "Clara Jansen",
    "David Moreau",
    "Eva Lindqvist",
    "Felix Braun",
    "Greta Novak",
    "Hugo Silva",
    "Ines Duarte",
    "Jonas Weber",
    "Katrin Vogel",
    "Liam O'Neill",
    "Maya Cohen",
    "Nils Petersen",
    "Olga Ivanova",
    "Paul Richter",
    "Rosa Martins",
]
N_AE, N_SDR = 14, 3
N_AE_INITIAL = 11

# injected faults: count at the default size (60,000 leads); scaled by sqrt(size), at least 3
FAULT_BASE = {
    "leads_missing_owner": 60,
    "leads_stage_out_of_order": 45,
    "duplicate_leads": 40,
    "unknown_channel_spellings": 120,
    "opportunities_unknown_owner": 25,
    "open_opportunities_without_account": 20,
    "product_name_mismatch": 35,
    "won_without_order": 30,
}
# each variant differs from the canonical name even after stripping whitespace, and maps back to it
# through config.canonical_token
CHANNEL_VARIANTS = {
    "paid_search": ["Paid Search", "paid-search", "PAID SEARCH", "paid search "],
    "paid_social": ["Paid Social", "paid-social", "Paid_Social"],
    "webinar": ["Webinar ", "WEBINAR", "Webinar"],
    "events": ["Events", "EVENTS", "Events "],
    "partner": ["Partner", "PARTNER", " Partner"],
    "organic": ["Organic", "ORGANIC "],
}
PRODUCT_VARIANTS = ["ProSuite", "Pro Suit", "Core Plan", "Enterprize"]
TABLE_ORDER = list(TABLES)  # the contract's order


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------
def _ln(rng: np.random.Generator, median: np.ndarray | float, sd: float, size: int) -> np.ndarray:
    """Lognormal draws with the given median(s)."""
    return np.asarray(median, dtype=float) * np.exp(sd * rng.standard_normal(size))


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _calibrate(target: np.ndarray, group: np.ndarray, offset: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Intercepts a[g] such that mean_{i in g}(mask_i · expit(a[g] + offset_i)) == target[g]."""
    k = len(target)
    cnt = np.bincount(group, minlength=k).astype(float)
    lo, hi = np.full(k, -25.0), np.full(k, 25.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        p = expit(mid[group] + offset) * mask
        mean = np.bincount(group, weights=p, minlength=k) / np.maximum(cnt, 1.0)
        high = mean > target
        hi = np.where(high, mid, hi)
        lo = np.where(high, lo, mid)
    return (lo + hi) / 2


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    width = max(width, len(str(n)))
    return (prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def _ts(sec: np.ndarray) -> pd.Series:
    """Float seconds since the epoch (NaN = missing) → datetime64[s] Series."""
    sec = np.asarray(sec, dtype=float)
    out = np.full(len(sec), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(sec)
    out[ok] = np.floor(sec[ok]).astype("int64").astype("datetime64[s]")
    return pd.Series(out)


def _sec(ts: pd.Timestamp) -> float:
    return float(pd.Timestamp(ts).value // 10**9)


def _contact_keys(created: np.ndarray) -> np.ndarray:
    """A stand-in for an e-mail hash: 16 hex digits per synthetic person (natural lead ``i``), hashed from
    ``(i, created second)`` with pandas' fixed-key SipHash, so the same arguments give the same keys and
    no two natural leads share one (a 64-bit collision among 60,000 leads has odds ~1e-10). An injected
    duplicate copies its original's key."""
    frame = pd.DataFrame({"i": np.arange(len(created), dtype=np.int64), "t": np.floor(created).astype(np.int64)})
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return np.array([f"{v:016x}" for v in h], dtype=object)


def _censor(sec: np.ndarray, end_sec: float) -> np.ndarray:
    return np.where(sec < end_sec, sec, np.nan)


def _round(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


# --------------------------------------------------------------------------------------------------
# context: period, reps, content
# --------------------------------------------------------------------------------------------------
class _Ctx:
    """Everything the per-lead simulation needs (period, channel parameters, reps, content)."""

    def __init__(self, rng: np.random.Generator, leads_per_year: int, end: str, years: int):
        self.end_excl = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
        self.start = self.end_excl - pd.DateOffset(years=years)
        self.end_sec = _sec(self.end_excl)
        self.start_sec = _sec(self.start)
        self.years = years
        self.L = leads_per_year / 12.0
        last = (self.end_excl - pd.Timedelta(seconds=1)).to_period("Q")
        if (last.end_time + pd.Timedelta(microseconds=1)).normalize() > self.end_excl:
            last = last - 1
        self.quarter = last
        self.q_start = last.start_time
        self.q_end_excl = (last.end_time + pd.Timedelta(microseconds=1)).normalize()
        ms = pd.date_range(self.start.to_period("M").start_time, self.end_excl - pd.Timedelta(seconds=1), freq="MS")
        self.months = ms
        nxt = ms + pd.offsets.MonthBegin(1)
        self.m_lo = np.array([_sec(max(a, self.start)) for a in ms])
        self.m_hi = np.array([_sec(min(b, self.end_excl)) for b in nxt])
        self.m_full = np.array([_sec(b) - _sec(a) for a, b in zip(ms, nxt)])
        self.exposure = (self.m_hi - self.m_lo) / self.m_full
        self.m_season = SEASONALITY[ms.month.to_numpy() - 1]
        mid = (self.m_lo + self.m_hi) / 2
        self.m_t = (mid - self.start_sec) / (365.25 * DAY) - years / 2  # years from the middle
        self.podcast_month = ms >= self.q_start
        self.ch_index = {c: i for i, c in enumerate(CHANNELS)}
        self.expected_leads: dict[str, np.ndarray] = {}  # channel → expected leads per month (truth only)
        spec = [CHANNEL_SPEC[c] for c in CHANNELS]
        self.rates = np.array([s["rates"] for s in spec])  # (channel, stage)
        self.days = np.array([s["days"] for s in spec], dtype=float)
        self.deal = np.array([s["deal"] for s in spec], dtype=float)
        self.seg_mix = np.array([s["seg"] for s in spec])
        self.touch_rate = np.array([s["touch"] for s in spec])
        # score offset per channel so that P(score >= T) equals the channel's lead_mql rate
        self.score_off = MQL_SCORE_THRESHOLD - 0.5 - 50 - 15 * ndtri(1 - self.rates[:, 0])
        self._reps(rng)
        self._content(rng)

    # ---- reps -----------------------------------------------------------------------------------
    def _reps(self, rng: np.random.Generator) -> None:
        n = N_AE + N_SDR
        is_ae = np.arange(n) < N_AE
        skill = np.full(n, np.nan)
        skill[:N_AE] = rng.permutation(np.linspace(-0.8, 0.8, N_AE))
        start = self.start_sec - rng.uniform(120, 2500, n) * DAY
        span = self.years * 12
        join_months = [round(span * f) for f in (0.22, 0.55, 0.75)]
        for j, r in enumerate(range(N_AE_INITIAL, N_AE)):
            start[r] = _sec(self.start + pd.DateOffset(months=join_months[j])) + float(rng.integers(0, 10)) * DAY
        start[N_AE + N_SDR - 1] = _sec(self.start + pd.DateOffset(months=round(span * 0.45)))
        start = np.floor(start / DAY) * DAY
        # the leaver: one of the better initial AEs, leaving in the quarter before the audited one
        cand = np.argsort(-skill[:N_AE_INITIAL], kind="stable")[1:4]
        leaver = int(rng.choice(cand))
        end = np.full(n, np.nan)
        end[leaver] = _sec(self.q_start - pd.Timedelta(days=10))
        g = rng.standard_normal((4, n))
        sk = np.nan_to_num(skill)
        self.rep_ids = np.array([f"R{i + 1:02d}" for i in range(n)], dtype=object)
        self.rep_is_ae = is_ae
        self.rep_skill = skill
        self.rep_start = start
        self.rep_end = end
        self.rep_cycle = np.round(np.exp(-0.15 * sk + 0.12 * g[0]), 2)
        self.rep_speed = np.round(np.exp(np.log(5.0) - 0.9 * sk + 0.3 * g[1]), 1)
        self.rep_uncontacted = np.round(np.clip(0.06 - 0.04 * sk + 0.015 * g[2], 0.01, 0.15), 3)
        self.rep_mix = np.exp(0.5 * sk)
        self.rep_weight = np.round(np.clip(1 + 0.12 * g[3], 0.8, 1.2), 2)
        self.rep_weight[leaver] = 1.5
        self.leaver = leaver
        self.rep_assign_end = np.where(np.isnan(end), np.inf, end - 14 * DAY)

    def active_ae(self, t: np.ndarray, permanent: bool = False) -> np.ndarray:
        """(n, N_AE) mask of AEs who can take a lead created at ``t``."""
        s = self.rep_start[:N_AE][None, :] <= t[:, None]
        if permanent:
            return s & np.isnan(self.rep_end[:N_AE])[None, :]
        return s & (t[:, None] < self.rep_assign_end[:N_AE][None, :])

    # ---- content --------------------------------------------------------------------------------
    def _content(self, rng: np.random.Generator) -> None:
        k = len(CONTENT_SPEC)
        self.ct_ids = np.array([c[0] for c in CONTENT_SPEC], dtype=object)
        self.ct_lift_pre = np.log(np.array([c[3] for c in CONTENT_SPEC]))
        self.ct_lift_deal = np.log(np.array([c[4] for c in CONTENT_SPEC]))
        pre = np.array([c[5] for c in CONTENT_SPEC])
        deal = np.array([c[6] for c in CONTENT_SPEC])
        aff = np.ones((len(CHANNELS), k))
        for j, c in enumerate(CONTENT_SPEC):
            for ch, m in c[7].items():
                aff[self.ch_index[ch], j] = m
        podcast_only = np.array([c[0] == "CT16" for c in CONTENT_SPEC])
        aff[:, podcast_only] = 0.0
        aff[self.ch_index["podcast"], podcast_only] = 1.0
        pre_w = np.where(podcast_only, 1.5, pre)
        deal_w = np.where(podcast_only, 0.3, deal)
        self.ct_pre_p = aff * pre_w[None, :]
        self.ct_deal_p = aff * deal_w[None, :]
        self.ct_early_p = aff * np.where(podcast_only, 1.5, 1.0)[None, :]
        end = self.end_excl
        published = np.array([_sec(self.start - pd.Timedelta(days=int(d))) for d in rng.integers(60, 700, k)])
        updated = np.array([_sec(end - pd.Timedelta(days=int(d))) for d in rng.integers(20, 300, k)])
        for j, c in enumerate(CONTENT_SPEC):
            if c[0] in STALE_CONTENT:
                published[j] = _sec(end - pd.Timedelta(days=1200))
                updated[j] = _sec(end - pd.Timedelta(days=840))
            if c[0] == "CT16":
                published[j] = updated[j] = _sec(self.q_start - pd.Timedelta(days=14))
        hour = rng.integers(8, 18, k) * HOUR
        self.ct_published = published + hour
        self.ct_updated = np.maximum(updated + hour, self.ct_published)


# --------------------------------------------------------------------------------------------------
# the per-lead simulation (vectorised over a chunk of leads)
# --------------------------------------------------------------------------------------------------
def _touches(rng, ctx: _Ctx, lead: np.ndarray, ch: np.ndarray, rate: np.ndarray, probs: np.ndarray):
    """Poisson(rate) touches for each lead in ``lead`` with asset drawn from ``probs[channel]``."""
    n = rng.poisson(rate)
    li = np.repeat(lead, n)
    asset = _choice_rows(rng, probs[np.repeat(ch, n)]) if len(li) else np.zeros(0, dtype=int)
    return li, asset


def _lift_offset(n: int, li: np.ndarray, asset: np.ndarray, lift: np.ndarray, k: int) -> np.ndarray:
    """Sum of log lifts over the distinct assets each lead touched."""
    key = np.unique(li.astype(np.int64) * k + asset)
    return np.bincount(key // k, weights=lift[key % k], minlength=n)


def _simulate(rng: np.random.Generator, ctx: _Ctx, created: np.ndarray, ch: np.ndarray) -> dict[str, np.ndarray]:
    """Latent (uncensored) life of each lead: stages, owner, deal, content touches, satisfaction."""
    n = len(created)
    nc = len(CHANNELS)
    k = len(CONTENT_SPEC)
    days = ctx.days[ch]
    seg = _choice_rows(rng, ctx.seg_mix[ch])
    country = rng.choice(len(COUNTRY_P), size=n, p=COUNTRY_P)
    z = rng.standard_normal(n)
    w = SCORE_RHO * z + math.sqrt(1 - SCORE_RHO**2) * rng.standard_normal(n)
    score = np.clip(np.round(50 + 15 * w + ctx.score_off[ch]), 0, 100)
    # owner: a random active AE, weighted
    owner = _choice_rows(rng, ctx.active_ae(created) * ctx.rep_weight[:N_AE][None, :])
    contacted = rng.random(n) >= ctx.rep_uncontacted[owner]
    hours = np.clip(_ln(rng, ctx.rep_speed[owner], 1.0, n), 0.05, 240.0)
    first_contact = np.where(contacted, np.floor(created + hours * HOUR), np.nan)
    speed_off = SPEED_EFFECT * np.log2(np.maximum(hours, 1.0))
    # lead -> MQL: score gate
    is_mql = score >= MQL_SCORE_THRESHOLD
    mql_at = created + np.maximum(_ln(rng, days[:, 0], DELAY_SD, n) * DAY, 600.0)
    # pre-SQL content touches (between MQL and the SQL decision) lift the odds of reaching SQL
    mi = np.flatnonzero(is_mql)
    pre_li, pre_asset = _touches(rng, ctx, mi, ch[mi], ctx.touch_rate[ch[mi]], ctx.ct_pre_p)
    pre_off = _lift_offset(n, pre_li, pre_asset, ctx.ct_lift_pre, k)
    # MQL -> SQL as one Bernoulli (calibrated), then SAL for the rest so that P(SAL|MQL) = mql_sal
    off = SCORE_BETA * z[mi] + pre_off[mi] + speed_off[mi]
    cm = contacted[mi].astype(float)
    target = ctx.rates[:, 1] * ctx.rates[:, 2]
    a = _calibrate(target, ch[mi], off, cm)
    p_sql = np.zeros(n)
    p_sql[mi] = expit(a[ch[mi]] + off) * cm
    reach_sql = is_mql & (rng.random(n) < p_sql)
    cnt = np.bincount(ch[mi], minlength=nc).astype(float)
    exp_sql = np.bincount(ch[mi], weights=p_sql[mi], minlength=nc)
    room = np.bincount(ch[mi], weights=(1 - p_sql[mi]) * cm, minlength=nc)
    q = np.clip((ctx.rates[:, 1] * cnt - exp_sql) / np.maximum(room, 1e-9), 0, 1)
    is_sal = reach_sql | (is_mql & contacted & (rng.random(n) < q[ch]))
    base_sal = np.where(contacted, np.fmax(mql_at, first_contact), mql_at)
    sal_at = base_sal + np.maximum(_ln(rng, days[:, 1], DELAY_SD, n) * DAY, 600.0)
    sql_at = sal_at + np.maximum(_ln(rng, days[:, 2], DELAY_SD, n) * DAY, 600.0)
    # opportunity owner: the lead owner unless the leaver would still hold the deal after leaving
    close_noise = np.exp(DELAY_SD * rng.standard_normal(n))
    opp_owner = owner.copy()
    prov_close = sql_at + np.maximum(close_noise * days[:, 3] * ctx.rep_cycle[owner] * DAY, DAY)
    leaver_end = ctx.rep_end[ctx.leaver]
    move = reach_sql & (owner == ctx.leaver) & (prov_close > leaver_end - 7 * DAY)
    mv = np.flatnonzero(move)
    if len(mv):
        opp_owner[mv] = _choice_rows(rng, ctx.active_ae(sql_at[mv], permanent=True).astype(float))
    closed = sql_at + np.maximum(close_noise * days[:, 3] * ctx.rep_cycle[opp_owner] * DAY, DAY)
    # deal touches (between SQL and close) lift the odds of winning
    si = np.flatnonzero(reach_sql)
    deal_li, deal_asset = _touches(rng, ctx, si, ch[si], np.full(len(si), 0.8), ctx.ct_deal_p)
    deal_off = _lift_offset(n, deal_li, deal_asset, ctx.ct_lift_deal, k)
    ramping = (sql_at - ctx.rep_start[opp_owner]) < RAMP_MONTHS * MONTH_DAYS * DAY
    woff = (np.nan_to_num(ctx.rep_skill[opp_owner]) + RAMP_PENALTY * ramping + deal_off + WIN_GAMMA * z)[si]
    a_win = _calibrate(ctx.rates[:, 3], ch[si], woff, np.ones(len(si)))
    p_win = np.zeros(n)
    p_win[si] = expit(a_win[ch[si]] + woff)
    won = reach_sql & (rng.random(n) < p_win)
    # deal
    base_deal = ctx.deal / (ctx.seg_mix @ SEGMENT_MULT)
    amount = base_deal[ch] * SEGMENT_MULT[seg] * np.exp(AMOUNT_SD * rng.standard_normal(n) - AMOUNT_SD**2 / 2)
    amount = np.round(amount, 2)
    product = _choice_rows(rng, PRODUCT_BY_SEGMENT[seg])
    lost_reason = rng.choice(len(LOST_P), size=n, p=LOST_P)
    # disqualification of leads that stop; ~12% stay open forever
    stop_new = ~is_mql
    stop_mql = is_mql & ~is_sal
    stop_sal = is_sal & ~reach_sql
    u = rng.random(n)
    dq = (stop_new & (u < 0.85)) | (stop_mql & (u < 0.90)) | (stop_sal & (u < 0.88))
    dq_delay = np.maximum(_ln(rng, 1.0, DELAY_SD, n) * DAY, 600.0)
    dq_at = np.where(
        stop_new,
        created + dq_delay * 12,
        np.where(stop_mql, mql_at + dq_delay * days[:, 1] * 1.5, sal_at + dq_delay * days[:, 2] * 1.2),
    )
    dq_at = np.where(dq, dq_at, np.nan)
    reason = rng.choice(len(DQ_P), size=n, p=DQ_P)
    ur = rng.random(n)
    recycled = (stop_mql & (ur < 0.35)) | (stop_sal & (ur < 0.20))
    reason = np.where(recycled, len(DQ_REASONS), reason)
    # content touch times: pre-SQL between mql_at and the next event; deal touches during the deal
    nxt = np.where(reach_sql, sql_at, np.where(dq, dq_at, mql_at + 60 * DAY))
    pre_t = mql_at[pre_li] + rng.random(len(pre_li)) * (nxt - mql_at)[pre_li]
    deal_t = sql_at[deal_li] + rng.random(len(deal_li)) * (closed - sql_at)[deal_li]
    n_early = rng.poisson(0.12, n)
    early_li = np.repeat(np.arange(n), n_early)
    early_asset = _choice_rows(rng, ctx.ct_early_p[ch[early_li]]) if len(early_li) else np.zeros(0, dtype=int)
    gap = np.where(is_mql, np.minimum(mql_at - created, 20 * DAY), 20 * DAY)
    early_t = created[early_li] + rng.random(len(early_li)) * gap[early_li]
    t_li = np.concatenate([pre_li, deal_li, early_li])
    t_asset = np.concatenate([pre_asset, deal_asset, early_asset])
    t_at = np.floor(np.concatenate([pre_t, deal_t, early_t]))
    # satisfaction and NPS surveys of customers
    sat = np.where(won, rng.standard_normal(n), np.nan)
    wi = np.flatnonzero(won & (closed < ctx.end_sec))
    first = closed[wi] + rng.uniform(30, 90, len(wi)) * DAY
    n_surv = np.where(first < ctx.end_sec, np.floor((ctx.end_sec - first) / (182 * DAY)).astype(int) + 1, 0)
    s_li = np.repeat(wi, n_surv)
    s_k = np.arange(len(s_li)) - np.repeat(np.cumsum(n_surv) - n_surv, n_surv)
    s_t = np.repeat(first, n_surv) + s_k * 182 * DAY + np.where(s_k > 0, rng.uniform(-20, 20, len(s_li)), 0) * DAY
    keep = (rng.random(len(s_li)) < 0.55) & (s_t < ctx.end_sec)
    s_li, s_t = s_li[keep], np.floor(s_t[keep])
    s_score = np.clip(np.round(7.2 + 1.8 * sat[s_li] + 1.2 * rng.standard_normal(len(s_li))), 0, 10)
    return dict(
        created=np.floor(created),
        ch=ch,
        seg=seg,
        country=country,
        z=z,
        score=score,
        owner=owner,
        contacted=contacted,
        first_contact=first_contact,
        hours=hours,
        is_mql=is_mql,
        mql_at=np.floor(mql_at),
        is_sal=is_sal,
        sal_at=np.floor(sal_at),
        reach_sql=reach_sql,
        sql_at=np.floor(sql_at),
        p_sql=p_sql,
        opp_owner=opp_owner,
        closed=np.floor(closed),
        won=won,
        p_win=p_win,
        amount=amount,
        product=product,
        lost_reason=lost_reason,
        dq_at=np.floor(dq_at),
        reason=reason,
        sat=sat,
        t_li=t_li,
        t_asset=t_asset,
        t_at=t_at,
        nps_li=s_li,
        nps_at=s_t,
        nps_score=s_score,
    )


_LEAD_KEYS = [
    "created",
    "ch",
    "seg",
    "country",
    "z",
    "score",
    "owner",
    "contacted",
    "first_contact",
    "hours",
    "is_mql",
    "mql_at",
    "is_sal",
    "sal_at",
    "reach_sql",
    "sql_at",
    "p_sql",
    "opp_owner",
    "closed",
    "won",
    "p_win",
    "amount",
    "product",
    "lost_reason",
    "dq_at",
    "reason",
    "sat",
]
_INDEXED = {"t_li": ("t_asset", "t_at"), "nps_li": ("nps_at", "nps_score")}


def _concat(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {key: np.concatenate([c[key] for c in chunks]) for key in _LEAD_KEYS}
    offsets = np.cumsum([0] + [len(c["created"]) for c in chunks])[:-1]
    for idx, cols in _INDEXED.items():
        out[idx] = np.concatenate([c[idx] + o for c, o in zip(chunks, offsets)])
        for col in cols:
            out[col] = np.concatenate([c[col] for c in chunks])
    return out


def _promoters(nps_li: np.ndarray, nps_at: np.ndarray, nps_score: np.ndarray, t: float) -> int:
    """Customers whose latest NPS answer before ``t`` is 9 or 10."""
    m = nps_at < t
    if not m.any():
        return 0
    li, at, sc = nps_li[m], nps_at[m], nps_score[m]
    order = np.lexsort((at, li))
    li, sc = li[order], sc[order]
    last = np.r_[li[1:] != li[:-1], True]
    return int((sc[last] >= 9).sum())


# --------------------------------------------------------------------------------------------------
# volumes: spend, traffic, lead counts per channel-month
# --------------------------------------------------------------------------------------------------
def _hill(s: np.ndarray, vmax: float, k: float, h: float) -> np.ndarray:
    return vmax * s**h / (k**h + s**h)


def _volumes(rng: np.random.Generator, ctx: _Ctx) -> tuple[dict, list[dict], list[dict]]:
    """Hill parameters, spend rows and traffic/lead-count rows for every channel but referral."""
    response: dict[str, dict] = {}
    spend_rows: list[dict] = []
    vol_rows: list[dict] = []
    nm = len(ctx.months)
    for c in CHANNELS:
        spec = CHANNEL_SPEC[c]
        active = ctx.podcast_month if c == "podcast" else np.ones(nm, dtype=bool)
        base = ctx.L * spec["share"]
        if c in PAID_CHANNELS:
            s0, h = spec["cpl"] * base, spec["h"]
            k = s0 / spec["sat"]
            # vmax such that the average over the lognormal spend noise gives `base` leads at base spend
            x, wq = np.polynomial.hermite_e.hermegauss(40)
            noise = np.exp(SPEND_SD * x - SPEND_SD**2 / 2)
            vmax = base / float((wq * (s0 * noise) ** h / (k**h + (s0 * noise) ** h)).sum() / wq.sum())
            response[c] = {"form": "hill", "vmax": _round(vmax, 3), "k": _round(k, 2), "h": h}
            s_full = (
                s0
                * ctx.m_season
                * (1 + SPEND_GROWTH) ** ctx.m_t
                * np.exp(SPEND_SD * rng.standard_normal(nm) - SPEND_SD**2 / 2)
            )
            spend = np.round(s_full * ctx.exposure, 2)
            expected = (
                _hill(spend / ctx.exposure, response[c]["vmax"], response[c]["k"], h) * ctx.m_season * ctx.exposure
            )
            for m in np.flatnonzero(active):
                spend_rows.append({"m": m, "channel": c, "amount": float(spend[m])})
        elif c == "referral":
            response[c] = None
            continue
        else:
            response[c] = None
            expected = base * ctx.m_season * (1 + ORGANIC_TREND * ctx.m_t) * ctx.exposure
        ctx.expected_leads[c] = np.where(active, expected, 0.0)
        visits = rng.poisson(np.where(active, expected / spec["visit"], 0))
        leads = rng.binomial(visits, spec["visit"])
        for m in np.flatnonzero(active):
            vol_rows.append({"m": m, "channel": c, "visits": int(visits[m]), "leads": int(leads[m])})
    return response, spend_rows, vol_rows


def _created_times(rng: np.random.Generator, ctx: _Ctx, m: np.ndarray, counts: np.ndarray) -> np.ndarray:
    mm = np.repeat(m, counts)
    return np.floor(ctx.m_lo[mm] + rng.random(len(mm)) * (ctx.m_hi[mm] - ctx.m_lo[mm]))


# --------------------------------------------------------------------------------------------------
# the public entry point
# --------------------------------------------------------------------------------------------------
def generate(
    out_dir: str | Path, seed: int = 7, leads_per_year: int = 20000, end: str = "2026-09-30", years: int = 3
) -> dict:
    """Write all 13 contract tables as CSV + audit.yaml + truth.json into out_dir; return the truth dict.

    Deterministic: the same arguments give byte-identical files. The data cover ``years`` years
    ending on ``end`` (inclusive); the latest complete quarter is the audited one.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ctx = _Ctx(rng, leads_per_year, end, years)
    response, spend_rows, vol_rows = _volumes(rng, ctx)

    # non-referral leads in one vectorised pass
    vm = np.array([r["m"] for r in vol_rows], dtype=int)
    vc = np.array([ctx.ch_index[r["channel"]] for r in vol_rows], dtype=int)
    vn = np.array([r["leads"] for r in vol_rows], dtype=int)
    created = _created_times(rng, ctx, vm, vn)
    chunks = [_simulate(rng, ctx, created, np.repeat(vc, vn))]

    # referral leads month by month: expected = base + per-promoter rate × promoters at month start
    ref = ctx.ch_index["referral"]
    ref_base = REFERRAL_BASE_SHARE * ctx.L
    ctx.expected_leads["referral"] = np.zeros(len(ctx.months))
    spec = CHANNEL_SPEC["referral"]
    promoters: list[int] = []
    offset = len(created)
    nps_li, nps_at, nps_score = [chunks[0]["nps_li"]], [chunks[0]["nps_at"]], [chunks[0]["nps_score"]]
    for m in range(len(ctx.months)):
        p_m = _promoters(np.concatenate(nps_li), np.concatenate(nps_at), np.concatenate(nps_score), ctx.m_lo[m])
        promoters.append(p_m)
        lam = (ref_base + REFERRALS_PER_PROMOTER * p_m) * ctx.exposure[m]
        ctx.expected_leads["referral"][m] = lam
        visits = int(rng.poisson(lam / spec["visit"]))
        n_ref = int(rng.binomial(visits, spec["visit"]))
        vol_rows.append({"m": m, "channel": "referral", "visits": visits, "leads": n_ref})
        if n_ref:
            t = _created_times(rng, ctx, np.array([m]), np.array([n_ref]))
            chunks.append(_simulate(rng, ctx, t, np.full(n_ref, ref)))
            nps_li.append(chunks[-1]["nps_li"] + offset)
            nps_at.append(chunks[-1]["nps_at"])
            nps_score.append(chunks[-1]["nps_score"])
            offset += n_ref
    lat = _concat(chunks)
    del chunks

    # order leads by creation time; everything below uses this natural order
    order = np.argsort(lat["created"], kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    for key in _LEAD_KEYS:
        lat[key] = lat[key][order]
    lat["t_li"] = inv[lat["t_li"]]
    lat["nps_li"] = inv[lat["nps_li"]]

    expected = _quarterly_expected(ctx, lat)  # reads the latent leads only: no random draw
    tables, truth = _build(rng, ctx, lat, response, spend_rows, vol_rows, promoters, ref_base)
    truth["quarterly_expected"] = expected
    truth = {
        "seed": seed,
        "end": str(pd.Timestamp(end).date()),
        "leads_per_year": leads_per_year,
        "years": years,
        **truth,
    }
    _write(out, tables, truth, leads_per_year)
    return truth


def _quarterly_expected(ctx: _Ctx, lat: dict) -> dict:
    """The expected flow of every quarter the data cover — what step 07's backtest should recover.

    Per quarter, channel and ``Total``: ``leads`` = Σ of the months' expected leads (the Poisson mean the
    volumes were drawn from); ``mql``, ``sql``, ``customers`` and ``revenue`` = the leads' simulated stage
    dates with each stage's coin flip replaced by its probability: Σ P(MQL) over leads whose MQL date falls in
    the quarter, Σ P(SQL | MQL) over MQLs whose SQL date does, Σ P(win | SQL) (× the deal amount for revenue)
    over SQLs whose close date does. Reads the latent leads only — no random draw, so the data do not change.
    """
    quarters = ctx.months.to_period("Q")
    labels = sorted({str(q) for q in quarters})
    edges = np.array(
        [_sec(pd.Period(q, "Q").start_time) for q in labels] + [_sec(pd.Period(labels[-1], "Q").end_time.ceil("D"))]
    )
    ch = lat["ch"]
    nq, nc = len(labels), len(CHANNELS)

    def by_quarter(t: np.ndarray, w: np.ndarray) -> np.ndarray:
        q = np.searchsorted(edges, t, side="right") - 1
        ok = ~np.isnan(t) & (q >= 0) & (q < nq) & (t < ctx.end_sec)
        out = np.zeros((nq, nc))
        np.add.at(out, (q[ok], ch[ok]), w[ok])
        return out

    month_q = np.array([labels.index(str(q)) for q in quarters])
    leads = np.zeros((nq, nc))
    for c, lam in ctx.expected_leads.items():
        np.add.at(leads[:, ctx.ch_index[c]], month_q, lam)
    sqlp = np.where(lat["is_mql"], lat["p_sql"], 0.0)
    winp = np.where(lat["reach_sql"], lat["p_win"], 0.0)
    series = {
        "leads": leads,
        "mql": by_quarter(lat["mql_at"], ctx.rates[ch, 0]),
        "sql": by_quarter(lat["sql_at"], sqlp),
        "customers": by_quarter(lat["closed"], winp),
        "revenue": by_quarter(lat["closed"], winp * lat["amount"]),
    }
    return {
        "definition": _quarterly_expected.__doc__.split("\n\n")[1].replace("\n    ", " ").strip(),
        "quarters": {
            q: {
                s: {
                    **{c: _round(float(v[i, j]), 2) for j, c in enumerate(CHANNELS)},
                    "Total": _round(float(v[i].sum()), 2),
                }
                for s, v in series.items()
            }
            for i, q in enumerate(labels)
        },
    }


# --------------------------------------------------------------------------------------------------
# tables, faults, truth
# --------------------------------------------------------------------------------------------------
def _fault_counts(n_leads: int) -> dict[str, int]:
    f = math.sqrt(max(n_leads, 1) / 60000)
    return {k: max(3, round(v * f)) for k, v in FAULT_BASE.items()}


def _pick(rng: np.random.Generator, pool: np.ndarray, n: int, taken: np.ndarray) -> np.ndarray:
    cand = pool[~taken[pool]]
    sel = np.sort(rng.permutation(cand)[: min(n, len(cand))])
    taken[sel] = True
    return sel


def _build(
    rng, ctx: _Ctx, lat: dict, response: dict, spend_rows: list, vol_rows: list, promoters: list[int], ref_base: float
) -> tuple[dict[str, pd.DataFrame], dict]:
    E = ctx.end_sec
    n = len(lat["created"])
    ch = lat["ch"]
    cens = {k: _censor(lat[k], E) for k in ("first_contact", "mql_at", "sal_at", "sql_at", "closed", "dq_at")}
    mql = np.where(lat["is_mql"], cens["mql_at"], np.nan)
    sal = np.where(lat["is_sal"] & ~np.isnan(mql), cens["sal_at"], np.nan)
    sql = np.where(lat["reach_sql"] & ~np.isnan(sal), cens["sql_at"], np.nan)
    has_opp = ~np.isnan(sql)
    closed = np.where(has_opp, cens["closed"], np.nan)
    customer = np.where(lat["won"], closed, np.nan)
    dq_at = cens["dq_at"]
    first_contact = cens["first_contact"]

    # ---- campaigns: one per paid channel and quarter ----------------------------------------------
    quarters = ctx.months.to_period("Q")
    camp_rows = []
    camp_of: dict[tuple[str, Any], str] = {}
    for c in PAID_CHANNELS:
        months = [i for i in range(len(ctx.months)) if c != "podcast" or ctx.podcast_month[i]]
        for q in sorted({quarters[i] for i in months}):
            cid = f"C{len(camp_rows) + 1:03d}"
            camp_of[(c, q)] = cid
            qs = max(q.start_time, ctx.start)
            qe = min(q.end_time.normalize(), ctx.end_excl - pd.Timedelta(days=1))
            label = c.replace("_", " ").capitalize()
            camp_rows.append(
                {"campaign_id": cid, "channel": c, "name": f"{label} {q}", "start_date": qs, "end_date": qe}
            )
    campaigns = pd.DataFrame(camp_rows)
    campaigns["start_date"] = pd.to_datetime(campaigns["start_date"]).astype("datetime64[s]")
    campaigns["end_date"] = pd.to_datetime(campaigns["end_date"]).astype("datetime64[s]")
    lead_month = np.searchsorted(ctx.m_lo, lat["created"], side="right") - 1
    q_codes = np.array([str(q) for q in quarters], dtype=object)
    camp_key = pd.Series(np.array(CHANNELS, dtype=object)[ch]) + "|" + q_codes[lead_month]
    camp_map = {f"{c}|{q}": v for (c, q), v in camp_of.items()}
    lead_campaign = camp_key.map(camp_map)
    lead_campaign = lead_campaign.where(lead_campaign.notna(), None).to_numpy(dtype=object)

    # ---- faults on leads (disjoint sets) -----------------------------------------------------------
    fc = _fault_counts(n)
    taken = np.zeros(n, dtype=bool)
    all_idx = np.arange(n)
    f_order = _pick(rng, np.flatnonzero(~np.isnan(mql) & ~np.isnan(sql)), fc["leads_stage_out_of_order"], taken)
    f_dup = _pick(rng, np.flatnonzero(~has_opp), fc["duplicate_leads"], taken)
    f_owner = _pick(rng, all_idx, fc["leads_missing_owner"], taken)
    var_ch = np.array([c in CHANNEL_VARIANTS for c in CHANNELS])
    f_spell = _pick(rng, np.flatnonzero(var_ch[ch]), fc["unknown_channel_spellings"], taken)

    # final lead order: duplicates right after their source; ids by that order
    src = np.concatenate([all_idx, f_dup])
    is_dup = np.r_[np.zeros(n, dtype=bool), np.ones(len(f_dup), dtype=bool)]
    final = np.lexsort((is_dup, src))
    lead_ids_final = _ids("L", len(final), 6)
    row_of = np.empty(len(final), dtype=np.int64)
    row_of[final] = np.arange(len(final))
    lead_id = lead_ids_final[row_of[:n]]  # natural index -> id
    dup_ids = lead_ids_final[row_of[n:]]

    channel_txt = np.array(CHANNELS, dtype=object)[ch].copy()
    variants = [CHANNEL_VARIANTS[c] for c in np.array(CHANNELS)[ch[f_spell]]]
    pick_v = rng.integers(0, 12, len(f_spell))
    channel_txt[f_spell] = [v[i % len(v)] for v, i in zip(variants, pick_v)]
    owner_txt = ctx.rep_ids[lat["owner"]].copy()
    owner_txt[f_owner] = None
    mql_out, sql_out = mql.copy(), sql.copy()
    mql_out[f_order], sql_out[f_order] = sql[f_order], mql[f_order]
    reason_names = np.array(DQ_REASONS + [RECYCLE_REASON], dtype=object)
    leads = pd.DataFrame(
        {
            "lead_id": lead_id,
            "created_at": _ts(lat["created"]),
            "channel": channel_txt,
            "campaign_id": lead_campaign,
            "owner_id": owner_txt,
            "first_contact_at": _ts(first_contact),
            "mql_at": _ts(mql_out),
            "sal_at": _ts(sal),
            "sql_at": _ts(sql_out),
            "customer_at": _ts(customer),
            "disqualified_at": _ts(dq_at),
            "disqualify_reason": np.where(np.isnan(dq_at), None, reason_names[lat["reason"]]),
            "lead_score": lat["score"].astype(np.int64),
            "segment": np.array(SEGMENTS, dtype=object)[lat["seg"]],
            "country": np.array(COUNTRIES, dtype=object)[lat["country"]],
            "contact_key": _contact_keys(lat["created"]),
        }
    )
    leads = pd.concat([leads, leads.iloc[f_dup].assign(lead_id=dup_ids)], ignore_index=True)
    leads = leads.iloc[final].reset_index(drop=True)

    # ---- opportunities -----------------------------------------------------------------------------
    oi = np.flatnonzero(has_opp)
    oi = oi[np.lexsort((oi, sql[oi]))]
    n_opp = len(oi)
    opp_id = _ids("O", n_opp, 6)
    o_closed = closed[oi]
    o_open = np.isnan(o_closed)
    o_won = lat["won"][oi] & ~o_open
    elapsed = (E - sql[oi]) / np.maximum(lat["closed"][oi] - sql[oi], 1.0)
    open_stage = np.array(OPEN_STAGES, dtype=object)[np.clip((elapsed * 4).astype(int), 0, 3)]
    stage = np.where(o_open, open_stage, np.where(o_won, "Closed Won", "Closed Lost"))
    is_won = pd.array(np.where(o_open, None, o_won), dtype="boolean")
    account = _ids("ACC", n_opp, 6)
    o_owner = ctx.rep_ids[lat["opp_owner"][oi]].copy()
    o_product = np.array(PRODUCTS, dtype=object)[lat["product"][oi]].copy()
    taken_o = np.zeros(n_opp, dtype=bool)
    o_idx = np.arange(n_opp)
    f_noacc = _pick(rng, np.flatnonzero(o_open), fc["open_opportunities_without_account"], taken_o)
    f_noorder = _pick(rng, np.flatnonzero(o_won), fc["won_without_order"], taken_o)
    f_unk = _pick(rng, o_idx, fc["opportunities_unknown_owner"], taken_o)
    f_prod = _pick(rng, o_idx, fc["product_name_mismatch"], taken_o)
    account[f_noacc] = None
    o_owner[f_unk] = np.array([f"R{90 + i}" for i in range(10)], dtype=object)[rng.integers(0, 10, len(f_unk))]
    o_product[f_prod] = np.array(PRODUCT_VARIANTS, dtype=object)[rng.integers(0, len(PRODUCT_VARIANTS), len(f_prod))]
    opportunities = pd.DataFrame(
        {
            "opportunity_id": opp_id,
            "owner_id": o_owner,
            "created_at": _ts(sql[oi]),
            "stage": stage,
            "lead_id": lead_id[oi],
            "account_id": account,
            "closed_at": _ts(o_closed),
            "is_won": is_won,
            "amount": lat["amount"][oi],
            "lost_reason": np.where(
                ~o_open & ~o_won, np.array(LOST_REASONS, dtype=object)[lat["lost_reason"][oi]], None
            ),
            "product": o_product,
        }
    )

    # ---- activities --------------------------------------------------------------------------------
    activities = _activities(rng, ctx, lat, first_contact, mql, sal, sql, dq_at, oi, o_closed, lead_id, opp_id)

    # ---- content touches ---------------------------------------------------------------------------
    t_ok = lat["t_at"] < E
    touches = pd.DataFrame({"li": lat["t_li"][t_ok], "a": lat["t_asset"][t_ok], "t": lat["t_at"][t_ok]})
    touches = touches.sort_values(["t", "li", "a"], kind="stable")
    content_touches = pd.DataFrame(
        {
            "lead_id": lead_id[touches["li"].to_numpy()],
            "content_id": ctx.ct_ids[touches["a"].to_numpy()],
            "touched_at": _ts(touches["t"].to_numpy()),
        }
    )
    content = pd.DataFrame(
        {
            "content_id": ctx.ct_ids,
            "title": [c[1] for c in CONTENT_SPEC],
            "type": [c[2] for c in CONTENT_SPEC],
            "published_at": _ts(ctx.ct_published),
            "updated_at": _ts(ctx.ct_updated),
        }
    )

    # ---- customers: orders, tickets, nps -----------------------------------------------------------
    cust = np.flatnonzero(~np.isnan(customer))
    no_order_leads = oi[f_noorder]
    orders, tickets, service = _service(rng, ctx, lat, cust, customer, lead_id, no_order_leads)
    nps = pd.DataFrame({"li": lat["nps_li"], "t": lat["nps_at"], "s": lat["nps_score"]})
    nps = nps.sort_values(["t", "li"], kind="stable")
    nps_tab = pd.DataFrame(
        {
            "customer_id": lead_id[nps["li"].to_numpy()],
            "answered_at": _ts(nps["t"].to_numpy()),
            "score": nps["s"].to_numpy().astype(np.int64),
        }
    )

    # ---- spend, traffic ----------------------------------------------------------------------------
    spend = pd.DataFrame(spend_rows)
    spend["q"] = [quarters[m] for m in spend["m"]]
    spend["campaign_id"] = [camp_of[(c, q)] for c, q in zip(spend["channel"], spend["q"])]
    spend["month"] = ctx.months[spend["m"].to_numpy()].strftime("%Y-%m-%d")
    spend = spend.sort_values(["m", "channel"], kind="stable")[["month", "channel", "amount", "campaign_id"]]
    traffic = pd.DataFrame(vol_rows)
    traffic["month"] = ctx.months[traffic["m"].to_numpy()].strftime("%Y-%m-%d")
    traffic = traffic.sort_values(["m", "channel"], kind="stable")[["month", "channel", "visits"]]

    # ---- reps ----------------------------------------------------------------------------------------
    reps, capacity = _reps_table(ctx, lat, oi, o_won)
    email_sends, email_truth = _email(rng, ctx, camp_of, quarters)

    tables = {
        "leads": leads,
        "opportunities": opportunities,
        "activities": activities,
        "reps": reps,
        "spend": spend.reset_index(drop=True),
        "traffic": traffic.reset_index(drop=True),
        "campaigns": campaigns,
        "email_sends": email_sends,
        "content": content,
        "content_touches": content_touches,
        "orders": orders,
        "tickets": tickets,
        "nps": nps_tab,
    }

    # ---- truth -----------------------------------------------------------------------------------------
    truth = _truth(
        ctx, lat, response, spend_rows, vol_rows, promoters, ref_base, capacity, email_truth, service, content_touches
    )
    faults = {
        "leads_missing_owner": len(f_owner),
        "leads_stage_out_of_order": len(f_order),
        "duplicate_leads": len(f_dup),
        "unknown_channel_spellings": len(f_spell),
        "opportunities_unknown_owner": len(f_unk),
        "open_opportunities_without_account": len(f_noacc),
        "product_name_mismatch": len(f_prod),
        "won_without_order": len(f_noorder),
    }
    truth["faults"] = faults
    truth["faults_detail"] = {
        "leads_missing_owner": lead_id[f_owner].tolist(),
        "leads_stage_out_of_order": lead_id[f_order].tolist(),
        "duplicate_leads": [[str(d), str(s)] for d, s in zip(dup_ids, lead_id[f_dup])],
        "unknown_channel_spellings": lead_id[f_spell].tolist(),
        "opportunities_unknown_owner": opp_id[f_unk].tolist(),
        "open_opportunities_without_account": opp_id[f_noacc].tolist(),
        "product_name_mismatch": opp_id[f_prod].tolist(),
        "won_without_order": opp_id[f_noorder].tolist(),
    }
    truth["faults_definition"] = {
        "leads_missing_owner": "lead rows with an empty owner_id (every natural lead has an owner)",
        "leads_stage_out_of_order": "lead rows whose non-empty created_at ≤ mql_at ≤ sal_at ≤ sql_at ≤ customer_at "
        "chain is broken (mql_at and sql_at swapped)",
        "duplicate_leads": "extra lead rows equal to another row in every column but lead_id, contact_key included "
        "(pairs: [duplicate, original]; the original has the smaller lead_id and the same created_at)",
        "unknown_channel_spellings": "lead rows whose channel is not a canonical name but canonical_token() maps it "
        "to one (leads table only)",
        "opportunities_unknown_owner": "opportunities whose owner_id is not in reps",
        "open_opportunities_without_account": "open-stage opportunities with an empty account_id",
        "product_name_mismatch": "opportunities whose product is not in audit.yaml products",
        "won_without_order": "won opportunities whose lead has no order at all",
    }
    truth["n_leads"] = int(len(leads))
    truth["row_counts"] = {t: int(len(df)) for t, df in tables.items()}
    return tables, truth


def _activities(
    rng, ctx: _Ctx, lat, first_contact, mql, sal, sql, dq_at, oi, o_closed, lead_id, opp_id
) -> pd.DataFrame:
    E = ctx.end_sec
    owner = lat["owner"]
    # prospecting attempts: the first is the first contact, then Exp(2 days) apart
    ci = np.flatnonzero(~np.isnan(first_contact))
    k = 1 + rng.poisson(1.8, len(ci))
    p_li = np.repeat(ci, k)
    p_k = np.arange(len(p_li)) - np.repeat(np.cumsum(k) - k, k)
    gaps = np.where(p_k > 0, rng.exponential(2 * DAY, len(p_li)), 0.0)
    grp_start = np.repeat(np.cumsum(k) - k, k)
    cum = np.cumsum(gaps)
    p_t = first_contact[p_li] + np.where(p_k > 0, np.maximum(cum - cum[grp_start], 1.0), 0.0)
    p_type = np.where(rng.random(len(p_li)) < 0.6, 0, 1)  # 0 call, 1 email
    u = rng.random(len(p_li))
    p_out = np.where(
        p_type == 0, np.where(u < 0.35, "connected", "no_answer"), np.where(u < 0.2, "replied", "no_reply")
    )
    p_owner = owner[p_li]
    # qualification calls/e-mails by SDRs (or the owner) for accepted leads
    si = np.flatnonzero(~np.isnan(sal))
    kq = rng.poisson(1.2, len(si))
    q_li = np.repeat(si, kq)
    lo = np.fmax(mql[q_li], first_contact[q_li])
    hi = np.where(~np.isnan(sql[q_li]), sql[q_li], np.where(~np.isnan(dq_at[q_li]), dq_at[q_li], lo + 30 * DAY))
    q_t = lo + rng.random(len(q_li)) * np.maximum(hi - lo, 0)
    sdr = N_AE + rng.integers(0, N_SDR, len(q_li))
    sdr_ok = (ctx.rep_start[sdr] <= q_t) & (rng.random(len(q_li)) < 0.7)
    q_owner = np.where(sdr_ok, sdr, owner[q_li])
    q_type = np.where(rng.random(len(q_li)) < 0.55, 0, 1)
    u = rng.random(len(q_li))
    q_out = np.where(q_type == 0, np.where(u < 0.6, "connected", "no_answer"), np.where(u < 0.4, "replied", "no_reply"))
    # meetings and demos on opportunities, more for top reps
    oo = lat["opp_owner"][oi]
    mix = ctx.rep_mix[oo]
    km = rng.poisson(1.2 * mix)
    kd = rng.poisson(0.7 * mix)
    kk = km + kd
    m_o = np.repeat(np.arange(len(oi)), kk)
    m_k = np.arange(len(m_o)) - np.repeat(np.cumsum(kk) - kk, kk)
    m_type = np.where(m_k < np.repeat(km, kk), 2, 3)  # 2 meeting, 3 demo
    lo = sql[oi][m_o]
    hi = np.where(np.isnan(o_closed[m_o]), E - 1, o_closed[m_o])
    m_t = lo + rng.random(len(m_o)) * (hi - lo)
    m_out = np.where(rng.random(len(m_o)) < 0.08, "no_show", np.where(m_type == 2, "held", "completed"))
    types = np.array(["call", "email", "meeting", "demo"], dtype=object)
    a = pd.DataFrame(
        {
            "t": np.floor(np.concatenate([p_t, q_t, m_t])),
            "li": np.concatenate([p_li, q_li, oi[m_o]]),
            "o": np.concatenate([np.full(len(p_li) + len(q_li), -1), m_o]),
            "owner": np.concatenate([p_owner, q_owner, oo[m_o]]),
            "type": np.concatenate([p_type, q_type, m_type]),
            "outcome": np.concatenate([p_out, q_out, m_out]).astype(object),
        }
    )
    end_owner = np.nan_to_num(ctx.rep_end, nan=np.inf)[a["owner"].to_numpy()] + DAY
    a = a[(a["t"].to_numpy() < E) & (a["t"].to_numpy() < end_owner)]
    a = a.sort_values(["t", "li", "type"], kind="stable")
    o = a["o"].to_numpy()
    return pd.DataFrame(
        {
            "activity_id": _ids("A", len(a), 7),
            "owner_id": ctx.rep_ids[a["owner"].to_numpy()],
            "type": types[a["type"].to_numpy()],
            "occurred_at": _ts(a["t"].to_numpy()),
            "lead_id": lead_id[a["li"].to_numpy()],
            "opportunity_id": np.where(o >= 0, opp_id[np.maximum(o, 0)], None),
            "outcome": a["outcome"].to_numpy(),
        }
    )


def _service(rng, ctx: _Ctx, lat, cust, customer, lead_id, no_order_leads):
    """Orders (first + repeat), tickets and the repeat-rate truth."""
    E = ctx.end_sec
    sat = lat["sat"][cust]
    c_at = customer[cust]
    months_left = (E - c_at) / (MONTH_DAYS * DAY)
    # tickets
    kt = rng.poisson(0.12 * np.exp(-0.3 * sat) * months_left)
    t_c = np.repeat(np.arange(len(cust)), kt)
    opened = np.floor(c_at[t_c] + rng.random(len(t_c)) * (E - c_at[t_c]))
    first_resp = np.floor(opened + np.clip(_ln(rng, 3.0, 1.0, len(t_c)), 0.05, 200) * HOUR)
    resolved = np.floor(first_resp + np.clip(_ln(rng, 18.0, 1.2, len(t_c)), 0.1, 2000) * HOUR)
    first_resp = _censor(first_resp, E)
    resolved = _censor(resolved, E)
    csat = np.clip(np.round(3.7 + 0.9 * sat[t_c] + 0.7 * rng.standard_normal(len(t_c))), 1, 5)
    rated = ~np.isnan(resolved) & (rng.random(len(t_c)) < 0.6)
    cat = rng.choice(len(TICKET_P), size=len(t_c), p=TICKET_P)
    tk = pd.DataFrame(
        {
            "c": t_c,
            "opened": opened,
            "fr": first_resp,
            "res": resolved,
            "cat": cat,
            "csat": np.where(rated, csat, np.nan),
        }
    ).sort_values(["opened", "c"], kind="stable")
    tickets = pd.DataFrame(
        {
            "ticket_id": _ids("T", len(tk), 6),
            "customer_id": lead_id[cust[tk["c"].to_numpy()]],
            "opened_at": _ts(tk["opened"].to_numpy()),
            "first_response_at": _ts(tk["fr"].to_numpy()),
            "resolved_at": _ts(tk["res"].to_numpy()),
            "category": np.array(TICKET_CATEGORIES, dtype=object)[tk["cat"].to_numpy()],
            "csat": pd.array(tk["csat"].to_numpy(), dtype="Int64"),
        }
    )
    # orders: first at customer_at with the won amount, then a Poisson process of repeat orders
    lam = 0.035 * np.exp(0.7 * sat)  # repeat orders per month
    kr = rng.poisson(lam * months_left)
    r_c = np.repeat(np.arange(len(cust)), kr)
    r_t = np.floor(c_at[r_c] + 1 + rng.random(len(r_c)) * (E - 1 - c_at[r_c]))
    r_amt = np.round(lat["amount"][cust][r_c] * np.exp(0.5 * rng.standard_normal(len(r_c)) - 0.125) * 0.35, 2)
    od = pd.DataFrame(
        {
            "c": np.concatenate([np.arange(len(cust)), r_c]),
            "t": np.concatenate([c_at, r_t]),
            "amt": np.concatenate([lat["amount"][cust], r_amt]),
            "first": np.r_[np.ones(len(cust)), np.zeros(len(r_c))],
        }
    )
    od = od[~np.isin(cust[od["c"].to_numpy()], no_order_leads)]
    od = od.sort_values(["t", "c", "first"], ascending=[True, True, False], kind="stable")
    orders = pd.DataFrame(
        {
            "order_id": _ids("ORD", len(od), 6),
            "customer_id": lead_id[cust[od["c"].to_numpy()]],
            "ordered_at": _ts(od["t"].to_numpy()),
            "amount": od["amt"].to_numpy(),
        }
    )
    # repeat-rate truth: P(>=1 repeat within 12 months) = 1 - exp(-12 λ), by mean csat
    mean_csat = pd.Series(np.where(rated, csat, np.nan)).groupby(t_c).mean()
    mc = np.full(len(cust), np.nan)
    mc[mean_csat.index.to_numpy()] = mean_csat.to_numpy()
    mature = (c_at <= E - 365 * DAY) & ~np.isin(cust, no_order_leads) & ~np.isnan(mc)
    p12 = 1 - np.exp(-12 * lam)
    hi, lo = mature & (mc >= 4), mature & (mc < 4)
    # observed: any repeat order within 12 months of customer_at
    rep12 = np.zeros(len(cust), dtype=bool)
    rep12[r_c[(r_t - c_at[r_c]) <= 365 * DAY]] = True
    service = {
        "repeat_rate_high_csat": _round(p12[hi].mean() if hi.any() else float("nan")),
        "repeat_rate_low_csat": _round(p12[lo].mean() if lo.any() else float("nan")),
        "repeat_rate_high_csat_observed": _round(rep12[hi].mean() if hi.any() else float("nan")),
        "repeat_rate_low_csat_observed": _round(rep12[lo].mean() if lo.any() else float("nan")),
        "n_customers_high_csat": int(hi.sum()),
        "n_customers_low_csat": int(lo.sum()),
        "repeat_orders_per_month": "0.035 * exp(0.7 * satisfaction), satisfaction ~ N(0, 1)",
        "repeat_rate_definition": (
            "customers with customer_at <= end - 365 days, at least one rated ticket and an order history; "
            "grouped by the mean csat of all their rated tickets (>= 4 vs < 4); value = mean model probability "
            "of at least one repeat order within 12 months of customer_at (the *_observed values are the "
            "realised shares)"
        ),
    }
    return orders, tickets, service


def _reps_table(ctx: _Ctx, lat, oi, o_won) -> tuple[pd.DataFrame, dict]:
    n_rep = N_AE + N_SDR
    # capacity: set so that the audited quarter's volume exceeds the team's capacity by ~12%
    mid15 = np.array([_sec(m + pd.Timedelta(days=14)) for m in ctx.months])
    employed = (ctx.rep_start[None, :N_AE] <= mid15[:, None]) & (
        np.nan_to_num(ctx.rep_end[:N_AE], nan=np.inf)[None, :] >= mid15[:, None]
    )
    lead_month = np.searchsorted(ctx.m_lo, lat["created"], side="right") - 1
    per_month = np.bincount(lead_month, minlength=len(ctx.months)).astype(float)
    in_q = (ctx.months >= ctx.q_start) & (ctx.months < ctx.q_end_excl)
    q_leads = per_month[in_q].mean()
    weight_month = employed.astype(float) @ ctx.rep_weight[:N_AE]
    q_weight = weight_month[in_q].mean()
    # earlier complete quarters should be within capacity (≤ 97%) while the audited one is 8-15% over
    qc = ctx.months.to_period("Q")
    ratios = [
        per_month[(qc == q)].mean() / weight_month[(qc == q)].mean()
        for q in sorted(set(qc))
        if q < ctx.quarter and ((qc == q) & (ctx.exposure > 0.99)).sum() == 3
    ]
    hi = q_leads / (1.08 * q_weight)
    lo = max(ratios) / 0.97 if ratios else 0.0
    base_cap = min(hi, max(lo, q_leads / (1.15 * q_weight)))
    cap = np.full(n_rep, np.nan)
    cap[:N_AE] = np.round(base_cap * ctx.rep_weight[:N_AE])
    team_cap_month = employed.astype(float) @ cap[:N_AE]
    # quota: ~1.1 × average won revenue per AE-quarter, scaled by the rep's weight
    won_rev = lat["amount"][oi][o_won].sum()
    ae_quarters = employed.sum() / 3
    quota = np.full(n_rep, np.nan)
    quota[:N_AE] = np.round(1.1 * won_rev / max(ae_quarters, 1) * ctx.rep_weight[:N_AE], -3)
    teams = np.array(["North", "Central", "South"], dtype=object)
    team = np.where(ctx.rep_is_ae, teams[np.arange(n_rep) % 3], "Inside sales")
    reps = pd.DataFrame(
        {
            "rep_id": ctx.rep_ids,
            "name": REP_NAMES[:n_rep],
            "team": team,
            "role": np.where(ctx.rep_is_ae, "AE", "SDR"),
            "start_date": _ts(ctx.rep_start),
            "end_date": _ts(ctx.rep_end),
            "quarterly_quota": quota,
            "monthly_lead_capacity": pd.array(np.where(np.isnan(cap), None, cap), dtype="Int64"),
        }
    )
    qcodes = ctx.months.to_period("Q")
    by_q = {}
    for q in sorted(set(qcodes)):
        sel = (qcodes == q) & (ctx.exposure > 0.99)
        if sel.sum() == 3:
            by_q[str(q)] = {
                "monthly_leads": _round(per_month[sel].mean(), 1),
                "team_monthly_capacity": _round(team_cap_month[sel].mean(), 1),
            }
    q_cap = team_cap_month[in_q].mean()
    mean_cap = cap[:N_AE][employed[in_q].any(axis=0)].mean()
    capacity = {
        "per_rep": {str(ctx.rep_ids[r]): int(cap[r]) for r in range(N_AE)},
        "quarter": str(ctx.quarter),
        "monthly_leads": _round(q_leads, 1),
        "team_monthly_capacity": _round(q_cap, 1),
        "shortfall": bool(q_leads > q_cap),
        "extra_reps_needed": int(math.ceil(max(q_leads - q_cap, 0) / mean_cap)),
        "leaver": str(ctx.rep_ids[ctx.leaver]),
        "definition": (
            "monthly_leads = natural leads (no injected duplicates) created per month, averaged over the "
            "quarter; team_monthly_capacity = sum of monthly_lead_capacity over AEs employed on the 15th "
            "of each month, averaged over the quarter; extra_reps_needed = ceil(gap / mean AE capacity)"
        ),
        "by_quarter": by_q,
    }
    return reps, capacity


def _email(rng, ctx: _Ctx, camp_of: dict, quarters) -> tuple[pd.DataFrame, dict]:
    rows = []
    scale = max(0.3, math.sqrt(ctx.L * 12 / 20000))
    first_monday = ctx.start + pd.Timedelta(days=(7 - ctx.start.weekday()) % 7)
    span = ctx.end_sec - ctx.start_sec
    for s, (orate, cto, unsub, size, wd) in EMAIL_STREAMS.items():
        t = np.arange(_sec(first_monday) + (wd - 1) * DAY + (9 + wd) * HOUR, ctx.end_sec, 7 * DAY)
        m = len(t)
        growth = 0.7 + 0.6 * (t - ctx.start_sec) / span
        rec = np.round(size * scale * growth * np.exp(0.05 * rng.standard_normal(m))).astype(np.int64)
        bounces = rng.binomial(rec, 0.02)
        deliv = rec - bounces
        opens = rng.binomial(deliv, np.clip(orate / 0.98 * (1 + 0.08 * rng.standard_normal(m)), 0, 1))
        clicks = rng.binomial(opens, np.clip(cto * (1 + 0.10 * rng.standard_normal(m)), 0, 1))
        unsubs = rng.binomial(deliv, unsub)
        month_idx = np.searchsorted(ctx.m_lo, t, side="right") - 1
        for i in range(m):
            camp = camp_of.get(("webinar", quarters[month_idx[i]])) if s == "webinar_invites" else None
            rows.append((t[i], s, int(rec[i]), int(opens[i]), int(clicks[i]), int(deliv[i]), int(unsubs[i]), camp))
    df = pd.DataFrame(
        rows, columns=["t", "stream", "recipients", "opens", "clicks", "delivered", "unsubscribes", "campaign_id"]
    ).sort_values(["t", "stream"], kind="stable")
    sends = pd.DataFrame(
        {
            "send_id": _ids("S", len(df), 5),
            "stream": df["stream"].to_numpy(),
            "sent_at": _ts(df["t"].to_numpy()),
            "recipients": df["recipients"].to_numpy(),
            "opens": df["opens"].to_numpy(),
            "clicks": df["clicks"].to_numpy(),
            "delivered": df["delivered"].to_numpy(),
            "unsubscribes": df["unsubscribes"].to_numpy(),
            "campaign_id": df["campaign_id"].to_numpy(dtype=object),
        }
    )
    truth = {
        s: {"open_rate": v[0], "click_rate": _round(v[0] * v[1], 5), "click_to_open": v[1], "unsubscribe_rate": v[2]}
        for s, v in EMAIL_STREAMS.items()
    }
    return sends, truth


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    if y.all() or not y.any():
        return float("nan")
    r = pd.Series(score).rank().to_numpy()
    n1 = y.sum()
    n0 = len(y) - n1
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _truth(
    ctx: _Ctx, lat, response, spend_rows, vol_rows, promoters, ref_base, capacity, email_truth, service, content_touches
) -> dict:
    ch = lat["ch"]
    channels = {}
    for i, c in enumerate(CHANNELS):
        sp = [r["amount"] for r in spend_rows if r["channel"] == c]
        vis = sum(r["visits"] for r in vol_rows if r["channel"] == c)
        months = sum(1 for r in vol_rows if r["channel"] == c)
        channels[c] = {
            "paid": c in PAID_CHANNELS,
            "response": response[c],
            "spend_range": [_round(min(sp), 2), _round(max(sp), 2)] if sp else None,
            "rates": {s: float(ctx.rates[i, j]) for j, s in enumerate(STAGES)},
            "median_days": {s: float(ctx.days[i, j]) for j, s in enumerate(STAGES)},
            "avg_deal_size": float(ctx.deal[i]),
            "visit_to_lead_rate": CHANNEL_SPEC[c]["visit"],
            "history_months": int(months),
            "n_leads": int((ch == i).sum()),
            "n_visits": int(vis),
        }
    # best score threshold: smallest score >= threshold where the model P(SQL | MQL, score ± 2) ≥ breakeven
    mq = lat["is_mql"]
    sc, ps = lat["score"][mq].astype(int), lat["p_sql"][mq]
    tot = np.bincount(sc, weights=ps, minlength=101)
    cnt = np.bincount(sc, minlength=101).astype(float)
    kern = np.ones(5)
    smooth = np.convolve(tot, kern, "same") / np.maximum(np.convolve(cnt, kern, "same"), 1)
    ok = [s for s in range(MQL_SCORE_THRESHOLD, 101) if smooth[s] >= SCORE_BREAKEVEN_SQL_RATE]
    best = int(ok[0]) if ok else 100
    capacity = dict(capacity)
    cap_per_rep = capacity.pop("per_rep")
    reps = {}
    for r in range(N_AE + N_SDR):
        reps[str(ctx.rep_ids[r])] = {
            "role": "AE" if ctx.rep_is_ae[r] else "SDR",
            "skill": _round(ctx.rep_skill[r]) if ctx.rep_is_ae[r] else None,
            "cycle_factor": float(ctx.rep_cycle[r]) if ctx.rep_is_ae[r] else None,
            "speed_to_lead_hours": float(ctx.rep_speed[r]) if ctx.rep_is_ae[r] else None,
            "uncontacted_share": float(ctx.rep_uncontacted[r]) if ctx.rep_is_ae[r] else None,
            "monthly_lead_capacity": cap_per_rep.get(str(ctx.rep_ids[r])),
            "start_date": str(pd.Timestamp(ctx.rep_start[r], unit="s").date()),
            "end_date": None if np.isnan(ctx.rep_end[r]) else str(pd.Timestamp(ctx.rep_end[r], unit="s").date()),
        }
    skill_order = [str(ctx.rep_ids[r]) for r in np.argsort(-ctx.rep_skill[:N_AE], kind="stable")]
    content = {}
    for c in CONTENT_SPEC:
        content[c[0]] = {
            "lift_mql_sql": c[3],
            "lift_sql_customer": c[4],
            "helpful": bool(c[3] > 1 or c[4] > 1),
            "harmful": bool(c[3] < 1 or c[4] < 1),
        }
    ct_last_q = content_touches[content_touches["touched_at"] >= ctx.q_start]["content_id"].value_counts()
    reached_sql = mq & lat["reach_sql"]
    months = [str(m.date()) for m in ctx.months]
    return {
        "period": {
            "start": str(ctx.start.date()),
            "end": str((ctx.end_excl - pd.Timedelta(days=1)).date()),
            "end_exclusive": str(ctx.end_excl.date()),
            "latest_quarter": str(ctx.quarter),
        },
        "generated_tables": TABLE_ORDER,
        "notes": (
            "Northwind Devices (demo): simulated B2B device-management vendor. Channel rates are marginal "
            "probabilities (per-lead effects are log-odds shifts around a per-channel intercept calibrated so the "
            "channel average equals the truth). Expected monthly leads of a paid channel = hill(spend) × "
            "seasonality[month]. Stage times after `end` are blanked (right-censored). Injected faults are the "
            "only rows with those problems."
        ),
        "seasonality": [_round(x) for x in SEASONALITY],
        "channels": channels,
        "mql_score_threshold": MQL_SCORE_THRESHOLD,
        "best_score_threshold": best,
        "score_breakeven_sql_rate": SCORE_BREAKEVEN_SQL_RATE,
        "score_auc_sql_among_mqls": _round(_auc(sc, lat["reach_sql"][mq])),
        "score_auc_sql_all_leads": _round(_auc(lat["score"], reached_sql)),
        "score_model": {
            "rho": SCORE_RHO,
            "beta_sql": SCORE_BETA,
            "gamma_win": WIN_GAMMA,
            "definition": "score = clip(round(50 + 15 w + channel offset)), w = rho z + sqrt(1-rho²) e; "
            "z raises the log-odds of reaching SQL by beta per sd and of winning by gamma; "
            "best_score_threshold = smallest score ≥ mql_score_threshold whose model "
            "P(SQL | MQL) over scores within ±2 is ≥ score_breakeven_sql_rate",
        },
        "speed_to_lead": {
            "effect_logit_per_doubling_hours": SPEED_EFFECT,
            "definition": "log-odds of reaching SQL shift by effect × log2(max(hours to first contact, "
            "1)); uncontacted leads never reach SAL",
        },
        "reps": reps,
        "rep_skill_order": skill_order,
        "ramp_months": RAMP_MONTHS,
        "ramp_logit_penalty": RAMP_PENALTY,
        "capacity": capacity,
        "email_streams": email_truth,
        "content": content,
        "stale_content_ids": list(STALE_CONTENT),
        "content_touches_last_quarter": {str(k): int(v) for k, v in ct_last_q.sort_index().items()},
        "service": {
            **service,
            "referrals_per_promoter_month": REFERRALS_PER_PROMOTER,
            "referral_base_per_month": _round(ref_base, 2),
            "promoters_by_month": dict(zip(months, [int(p) for p in promoters])),
            "referral_definition": (
                "expected referral leads in month m = referral_base_per_month + "
                "referrals_per_promoter_month × promoters at the start of m; promoters = "
                "customers whose latest NPS answer before the month is 9 or 10"
            ),
        },
    }


def _audit_yaml(leads_per_year: int = 20000) -> dict:
    return {
        "company": COMPANY,
        "currency": "EUR",
        "fiscal_year_start_month": 1,
        "roi_target": 2.0,
        "gross_margin": 0.7,
        "stages": {"open": list(OPEN_STAGES), "won": ["Closed Won"], "lost": ["Closed Lost"]},
        "channels": list(CHANNELS),
        "products": list(PRODUCTS),
        "referral_channel": "referral",
        "stale_content_days": 365,
        "inactive_opportunity_days": 30,
        "score_breakeven_sql_rate": 0.25,
        # the worked new-channel example of step 07 (keys: salesaudit.steps.planning.metrics.NEW_CHANNEL_KEYS)
        "new_channel": {"name": "podcast", "leads": 150, "reach_rate": 0.5, "close_rate": 0.25, "resembles": "webinar"},
        # step 07's target plan: 1,000 EUR a year per yearly lead (default company: 20M a year = 5M a quarter,
        # about 10% above what next quarter's leads bring at today's spend)
        "revenue_target": {"year": int(round(leads_per_year * 1000, -4))},
    }


def _write(out: Path, tables: dict[str, pd.DataFrame], truth: dict, leads_per_year: int = 20000) -> None:
    for name in TABLE_ORDER:
        tables[name].to_csv(
            out / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M:%S", float_format="%.2f", lineterminator="\n"
        )
    (out / "audit.yaml").write_text(
        yaml.safe_dump(_audit_yaml(leads_per_year), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
