"""The registry of recorded figures: one entry per figure a notebook records.

Every ``rec.record(name, …)`` of a notebook names a figure registered here, with its generic label, its
unit, which way is better and the notebook (``step``) that records it, and a one-line definition — the
same words as its row in ``docs/metrics.md``. :func:`salesaudit.report.record.record` takes the label,
unit and direction from here when a notebook does not give them, and refuses a unit or a direction that
disagrees (a label given by the notebook always wins: it may be more specific, e.g. "Extra reps needed
for 2026Q4"). An unregistered name is refused too, so a new figure is added here (and to
``docs/metrics.md``) before a notebook records it.

Two names are patterns (:data:`PATTERNS`), resolved by :func:`lookup`: ``dq_score_<table>`` (one per
table of the data contract) and ``finding:<slug>`` (:func:`salesaudit.report.record.record_finding`).

Units (``record`` module docstring): ``"%"`` (a share 0–1, or a difference of shares), ``"days"``,
``"money"``, ``"count"``, ``"ratio"``, ``"score"`` or ``""`` (the hours figures are recorded with ``""``).

>>> lookup("win_rate").unit
'%'
>>> lookup("dq_score_leads").label
'Data-quality score: leads'
>>> lookup("finding:funnel_leak_mql_sal").unit
'money'
>>> lookup("no_such_figure") is None
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from salesaudit.data.contract import TABLES

UNITS: tuple[str, ...] = ("%", "days", "hours", "money", "count", "ratio", "score", "")


@dataclass(frozen=True)
class FigureDef:
    """One recorded figure: ``name``, generic ``label``, ``unit``, ``higher_is_better`` (None: neither),
    the notebook stem that records it (``step``; ``""`` for findings, which every step records) and its
    ``definition`` in one line."""

    name: str
    label: str
    unit: str
    higher_is_better: bool | None
    step: str
    definition: str


S00 = "00_executive_summary"
S01 = "01_sales_process"
S02 = "02_tools_and_content"
S03 = "03_lead_quality"
S04 = "04_reporting"
S05 = "05_sales_effectiveness"
S06 = "06_customer_service"
S07 = "07_spend_planning"

_UP, _DOWN, _NEITHER = True, False, None

# (name, label, unit, higher_is_better, step, definition)
_ROWS: list[tuple[str, str, str, bool | None, str, str]] = [
    # ---------------------------------------------------------------- 00 executive summary
    (
        "headline_available",
        "Headline figures available",
        "count",
        _NEITHER,
        S00,
        "headline figures (summary.HEADLINE) with a value this quarter",
    ),
    (
        "headline_beyond_noise",
        "Headline figures whose change exceeds its 90% interval",
        "count",
        _NEITHER,
        S00,
        "headline figures whose change vs the previous quarter has a 90% interval excluding 0 "
        "(summary.change; none in a partial quarter)",
    ),
    (
        "top_findings_impact",
        "Money at stake in the top findings, per quarter",
        "money",
        _NEITHER,
        S00,
        "Σ impact of the top 5 findings with impact > 0 (estimated revenue effect per quarter); 0 without one",
    ),
    (
        "slices_compared",
        "Slices compared in the executive summary",
        "count",
        _NEITHER,
        S00,
        "slice reports (report --slices, audit.yaml slices:) whose headline figures section 4 compares; 0 without",
    ),
    (
        "slices_beyond_noise",
        "Slice figures flagged against the rest of the company",
        "count",
        _NEITHER,
        S00,
        "(slice, headline figure) pairs whose difference from the rest of the company has a 90% interval "
        "excluding 0, both sides with ≥ 30 cases (report.slices.compare_one)",
    ),
    # ---------------------------------------------------------------- 01 sales process
    ("leads", "New leads in the quarter", "count", _UP, S01, "leads with created_at in the quarter"),
    (
        "mql",
        "New MQLs in the quarter",
        "count",
        _UP,
        S01,
        "flow: leads whose effective MQL date falls in the quarter, whichever quarter they were created in "
        "(not recorded when the data has no MQL dates)",
    ),
    (
        "sal",
        "New SALs in the quarter",
        "count",
        _UP,
        S01,
        "flow: leads whose effective SAL date falls in the quarter (not recorded when the data has no SAL dates)",
    ),
    (
        "sql",
        "New SQLs in the quarter",
        "count",
        _UP,
        S01,
        "flow: leads whose effective SQL date falls in the quarter (not recorded when the data has no SQL dates)",
    ),
    (
        "customers",
        "New customers in the quarter",
        "count",
        _UP,
        S01,
        "flow: leads whose effective customer date falls in the quarter (not recorded when the data has no "
        "customer dates)",
    ),
    (
        "leads_vs_prev4",
        "New leads vs the previous four quarters' average",
        "%",
        _UP,
        S01,
        "leads this quarter ÷ mean leads of the previous four quarters − 1 (None in a partial quarter)",
    ),
    (
        "leads_growth_per_year",
        "Lead volume trend per year",
        "%",
        _UP,
        S01,
        "exp(12·b) − 1, b = slope of log(leads per day in month t) = a + b·t + s(month of year), least squares",
    ),
    (
        "lead_to_customer_90d",
        "Leads becoming customers within 90 days (this cohort, KM)",
        "%",
        _UP,
        S01,
        "share of the leads created in the quarter that become customers within 90 days of creation: "
        "Kaplan–Meier F(90), leads not yet converted censored at the cut-off",
    ),
    (
        "visit_to_lead_rate",
        "Website visits becoming leads",
        "%",
        _UP,
        S01,
        "leads created ÷ website visits in the quarter, channels with traffic only",
    ),
    (
        "cohort_lead_to_customer_rate",
        "Leads becoming customers (mature cohorts)",
        "%",
        _UP,
        S01,
        "customers ÷ leads of the mature cohorts: leads created in the four latest quarters that are "
        "≥ 180 days old at the cut-off",
    ),
    (
        "median_days_to_customer",
        "Median days from lead to customer",
        "days",
        _DOWN,
        S01,
        "median days from creation to customer among leads converting within 365 days: min{t : F(t) ≥ F(365)/2}, "
        "F = Kaplan–Meier conversion curve of the leads created in the quarter and the four before",
    ),
    (
        "largest_loss_rate",
        "Largest step loss",
        "%",
        _DOWN,
        S01,
        "the largest step loss: 1 − share of the leads entering a stage in the quarter that reach the next "
        "within 90 days (Kaplan–Meier F(90), stratified by channel)",
    ),
    (
        "worst_step_change",
        "Largest rise in a step's loss vs the previous four quarters",
        "%",
        _DOWN,
        S01,
        "largest rise in a step's 90-day loss vs the previous four quarters pooled and re-weighted to this "
        "quarter's channel mix, when its Newcombe interval excludes 0 (else 0)",
    ),
    # ---------------------------------------------------------------- 02 tools and content
    (
        "email_click_rate",
        "E-mail click rate (clicks / delivered, all streams)",
        "%",
        _UP,
        S02,
        "Σ unique clicks ÷ Σ delivered (recipients when delivered is not given) over all e-mail sends of the quarter",
    ),
    (
        "email_open_rate",
        "E-mail open rate (opens / delivered, all streams)",
        "%",
        _UP,
        S02,
        "Σ unique opens ÷ Σ delivered (recipients when delivered is not given) over all e-mail sends of the quarter",
    ),
    (
        "email_click_to_open",
        "E-mail click-to-open rate",
        "%",
        _UP,
        S02,
        "Σ unique clicks ÷ Σ unique opens over all e-mail sends of the quarter (None without opens)",
    ),
    (
        "lagging_streams",
        "E-mail streams lagging the others",
        "count",
        _DOWN,
        S02,
        "e-mail streams whose click rate − the pooled click rate of the other streams this quarter has a "
        "Newcombe interval below 0",
    ),
    (
        "helpful_content_assets",
        "Content assets that lift conversion",
        "count",
        _UP,
        S02,
        "content assets whose MQL→SQL or SQL→customer lift (Mantel–Haenszel risk difference, touched − "
        "untouched) exceeds z·se, z Bonferroni-corrected, with ≥ 30 touched leads at that stage",
    ),
    (
        "unhelpful_content_assets",
        "Content assets with no evidence of a lift",
        "count",
        _DOWN,
        S02,
        "ranked content assets that are not helpful (no evidence of a lift, or a lift below 0)",
    ),
    (
        "best_content_lift",
        "Largest content lift (pp)",
        "%",
        _UP,
        S02,
        "max(MQL→SQL lift, SQL→customer lift) of the top-ranked asset, ranked by the larger lower 90% bound "
        "of its two lifts",
    ),
    (
        "stale_content_assets",
        "Content assets not updated for > stale_content_days",
        "count",
        _DOWN,
        S02,
        "content assets whose age at the quarter end (quarter end − updated_at, else published_at) exceeds "
        "stale_content_days (audit.yaml, default 365)",
    ),
    (
        "stale_content_touch_share",
        "Share of content touches on stale assets",
        "%",
        _DOWN,
        S02,
        "content touches in the quarter on stale assets ÷ all content touches in the quarter (None without touches)",
    ),
    (
        "activities_per_won_deal",
        "Activities per won deal",
        "count",
        _DOWN,
        S02,
        "Σ activities on deals won in the quarter ÷ won deals; an activity counts when it names the opportunity, "
        "or the deal's lead and happened before the close",
    ),
    (
        "speed_to_first_contact_hours",
        "Speed to first contact (Kaplan–Meier median hours)",
        "hours",
        _DOWN,
        S02,
        "Kaplan–Meier median hours from created_at to first contact (first_contact_at, else the earliest "
        "activity) of leads created in the quarter, not-yet-contacted leads censored at min(quarter end, "
        "extraction date)",
    ),
    (
        "never_contacted_rate",
        "Leads not contacted within 14 days",
        "%",
        _DOWN,
        S02,
        "leads with no first contact within 14 days of creation ÷ leads of the quarter created ≥ 14 days "
        "before the cut-off",
    ),
    # ---------------------------------------------------------------- 03 lead quality
    (
        "lead_to_sql_rate",
        "Lead → SQL rate",
        "%",
        _UP,
        S03,
        "value-cohort leads with sql_at ≤ created_at + 180 days ÷ value-cohort leads",
    ),
    (
        "revenue_per_lead",
        "Won revenue per lead",
        "money",
        _UP,
        S03,
        "won amount of the value-cohort leads' deals closed within 180 days ÷ cohort leads "
        "(leads without a won deal count 0)",
    ),
    (
        "cohort_avg_deal",
        "Average won deal of the value cohort",
        "money",
        _UP,
        S03,
        "won amount ÷ won deals of the value-cohort leads' deals closed within 180 days",
    ),
    (
        "cohort_win_rate",
        "Win rate of the cohort's deals",
        "%",
        _UP,
        S03,
        "won ÷ (won + lost) of the value-cohort leads' deals closed within 180 days; open deals excluded",
    ),
    (
        "best_channel_revenue_per_lead",
        "Revenue per lead, best channel",
        "money",
        _UP,
        S03,
        "revenue_per_lead of the best channel, when the best and the worst channel each have ≥ 30 leads "
        "and non-overlapping intervals (else None)",
    ),
    (
        "lead_score_auc",
        "Lead score AUC (SQL vs not)",
        "ratio",
        _UP,
        S03,
        "P(score of a random SQL > score of a random non-SQL), ties ½, over the scored value-cohort leads "
        "(Mann–Whitney U ÷ n₊n₋)",
    ),
    (
        "lead_score_auc_mql",
        "Lead score AUC among MQLs",
        "ratio",
        _UP,
        S03,
        "the lead_score_auc among the value cohort's MQLs only",
    ),
    (
        "mql_threshold_used",
        "MQL score threshold in use (1st percentile of MQLs)",
        "score",
        _NEITHER,
        S03,
        "1st percentile of lead_score of the leads with mql_at in the quarter",
    ),
    (
        "mql_threshold_suggested",
        "Score threshold the outcomes suggest",
        "score",
        _NEITHER,
        S03,
        "among the cohort's MQLs, the integer score t maximising Youden's J(t) = TPR(t) − FPR(t); with "
        "score_breakeven_sql_rate, the lowest score whose SQL rate (pooled over score ± 2) reaches it",
    ),
    (
        "mql_to_sal_rate",
        "MQL → SAL rate (MQLs old enough to judge)",
        "%",
        _UP,
        S03,
        "MQLs of the quarter accepted (sal_at or sql_at) before the cut-off ÷ (MQLs − those still waiting, "
        "MQL ≤ 30 days, neither accepted nor rejected)",
    ),
    (
        "mql_to_sal_days",
        "Median days MQL → accepted",
        "days",
        _DOWN,
        S03,
        "median days from MQL to acceptance, 1 − Kaplan–Meier S(t) of the quarter's MQLs, not-accepted MQLs "
        "censored at the cut-off",
    ),
    (
        "mql_never_accepted",
        "MQLs never picked up (> 30 days)",
        "count",
        _DOWN,
        S03,
        "MQLs of the quarter neither accepted nor rejected more than 30 days after MQL",
    ),
    (
        "mql_rejected_share",
        "Share of MQLs rejected by sales",
        "%",
        _DOWN,
        S03,
        "MQLs of the quarter disqualified before the cut-off without being accepted ÷ MQLs of the quarter",
    ),
    (
        "mqls_recycled",
        "MQLs sent back to marketing",
        "count",
        _DOWN,
        S03,
        "leads disqualified in the quarter that had been MQL and had not reached SQL by then",
    ),
    (
        "recycled_not_yet_share",
        "Recycled MQLs with a 'not yet' reason",
        "%",
        _DOWN,
        S03,
        "recycled MQLs whose reason means 'not yet' (leadquality.TOO_EARLY_PATTERN) ÷ recycled MQLs",
    ),
    (
        "campaigns",
        "Campaigns with leads in the quarter",
        "count",
        _NEITHER,
        S03,
        "campaigns with leads created in the quarter",
    ),
    (
        "nurture_campaigns",
        "High-volume, low-conversion campaigns (nurture candidates)",
        "count",
        _DOWN,
        S03,
        "campaigns with leads ≥ the median campaign's and an upper 90% bound of the 30-day SQL rate below "
        "the quarter's overall rate",
    ),
    # ---------------------------------------------------------------- 04 reporting: data quality
    (
        "dq_score",
        "Data-quality score (0–100)",
        "score",
        _UP,
        S04,
        "equal-weighted mean of the table scores dq_score_<table> (each table present counts the same)",
    ),
    (
        "dq_leads_missing_owner",
        "Leads without an owner",
        "count",
        _DOWN,
        S04,
        "leads with an empty owner_id at the cut-off (check missing:owner_id; None when it did not run)",
    ),
    (
        "dq_stage_out_of_order",
        "Leads with stage dates out of order",
        "count",
        _DOWN,
        S04,
        "leads with a later stage date before an earlier one, created ≤ MQL ≤ SAL ≤ SQL ≤ customer "
        "(check stage_order; None when it did not run)",
    ),
    (
        "dq_duplicate_leads",
        "Duplicate leads (copies by contact_key)",
        "count",
        _DOWN,
        S04,
        "Σ over contact_key values of (leads with the key − 1), leads not derived from an opportunity; "
        "None when no lead carries a contact_key",
    ),
    (
        "dq_unknown_owner_deals",
        "Deals owned by an unknown rep",
        "count",
        _DOWN,
        S04,
        "opportunities whose owner_id is not a reps.rep_id (check foreign_key:reps.rep_id; None when it did not run)",
    ),
    (
        "dq_stale_open_deals",
        "Open deals idle for inactive_opportunity_days+ days",
        "count",
        _DOWN,
        S04,
        "deals open at the cut-off whose latest activity (or creation) is more than inactive_opportunity_days "
        "before it (check stale_open; None without activities)",
    ),
    (
        "dq_untouched_leads",
        "Leads never touched by sales",
        "count",
        _DOWN,
        S04,
        "leads older than 14 days with no first contact, no activity, no SAL/SQL/customer date and not "
        "disqualified (check untouched)",
    ),
    (
        "dq_won_without_order",
        "Deals won in the quarter without an order",
        "count",
        _DOWN,
        S04,
        "deals with a lead won in the quarter whose lead has no order (orders.customer_id = lead_id)",
    ),
    (
        "dq_unreconciled_revenue",
        "Won revenue not reconciled to orders",
        "money",
        _DOWN,
        S04,
        "Σ amount of deals won in the quarter without an order + Σ |amount − first order| of those whose "
        "amounts differ by > 1%; None when the deals carry no amount",
    ),
    # ---------------------------------------------------------------- 05 sales effectiveness
    (
        "win_rate",
        "Win rate (won / (won + lost))",
        "%",
        _UP,
        S05,
        "won ÷ (won + lost) of opportunities closed in the quarter; open deals not counted",
    ),
    (
        "sales_cycle_days",
        "Sales cycle (median days, won deals)",
        "days",
        _DOWN,
        S05,
        "median days created_at → closed_at of deals won in the quarter",
    ),
    (
        "won_revenue",
        "Won revenue",
        "money",
        _UP,
        S05,
        "Σ amount of deals won in the quarter (not recorded in a partial quarter or without amounts)",
    ),
    (
        "avg_deal_size",
        "Average won deal",
        "money",
        _UP,
        S05,
        "mean amount of the deals won in the quarter that carry an amount",
    ),
    (
        "speed_to_lead_hours",
        "Speed to lead (Kaplan–Meier median hours to first contact)",
        "hours",
        _DOWN,
        S05,
        "Kaplan–Meier median hours from created_at to first contact (first_contact_at, else the earliest "
        "activity) of leads created in the quarter, not-yet-contacted leads censored at the cut-off "
        "(the same rule as speed_to_first_contact_hours)",
    ),
    (
        "contact_rate",
        "Leads contacted",
        "%",
        _UP,
        S05,
        "leads created in the quarter with a first contact before the cut-off ÷ leads created in the quarter",
    ),
    (
        "reps_at_quota_share",
        "Reps at or above quota",
        "%",
        _UP,
        S05,
        "reps whose won revenue in the quarter ÷ quarterly_quota ≥ 1 ÷ reps with a quota (not recorded in a "
        "partial quarter)",
    ),
    (
        "rep_win_rate_spread",
        "Spread of shrunk rep win rates (top − bottom rep)",
        "%",
        _DOWN,
        S05,
        "best − worst shrunk (empirical-Bayes) rep win rate over the 8-quarter skill window, ramp-up deals left out",
    ),
    (
        "top_quartile_speed_to_lead_hours",
        "Top-quartile reps: median speed to lead (hours)",
        "hours",
        _DOWN,
        S05,
        "median over the top-quartile reps (skill win rate ≥ its 75th percentile) of each rep's Kaplan–Meier "
        "median hours to first contact, leads created in the 8-quarter window",
    ),
    (
        "ramp_months",
        "Month from which new reps win at ≥ 90% of the mature rate",
        "count",
        _DOWN,
        S05,
        "first tenure month m from which every pooled 3-month window (m … m+2) of deals opened by reps in "
        "that month of tenure wins ≥ 90% of the mature (month 13+) win rate",
    ),
    (
        "new_rep_win_rate",
        "Win rate of deals opened in a rep's first 3 months",
        "%",
        _UP,
        S05,
        "won ÷ (won + lost) of deals opened in a rep's first 3 months after start_date and closed before the "
        "quarter end",
    ),
    (
        "reps_needed",
        "Extra reps needed next quarter",
        "count",
        _DOWN,
        S05,
        "max(0, ⌈forecast leads per month ÷ mean monthly_lead_capacity per rep⌉ − active reps), active = "
        "employed at the end of the quarter with a capacity",
    ),
    (
        "lead_forecast_monthly",
        "Lead forecast per month, next quarter",
        "count",
        _NEITHER,
        S05,
        "next quarter's leads ÷ 3; leads = same quarter last year × (leads of the last 4 quarters ÷ the 4 "
        "before), or the mean of the last (≤ 4) quarters with < 8 quarters of history",
    ),
    (
        "team_monthly_capacity",
        "Team capacity (leads per month)",
        "count",
        _UP,
        S05,
        "Σ monthly_lead_capacity of the reps employed on the 15th of each month of the quarter, averaged "
        "over its three months",
    ),
    ("monthly_leads", "Leads per month in the quarter", "count", _NEITHER, S05, "leads created in the quarter ÷ 3"),
    (
        "reps_short_now",
        "Reps short of the leads received in the quarter",
        "count",
        _DOWN,
        S05,
        "⌈max(monthly_leads − team_monthly_capacity, 0) ÷ mean capacity per rep⌉",
    ),
    (
        "capacity_shortfall",
        "Forecast leads per month beyond capacity (negative = spare)",
        "count",
        _DOWN,
        S05,
        "lead_forecast_monthly − Σ monthly_lead_capacity of the reps employed at the end of the quarter",
    ),
    # ---------------------------------------------------------------- 06 customer service
    (
        "csat",
        "CSAT (share of rated tickets scored 4–5)",
        "%",
        _UP,
        S06,
        "tickets opened in the quarter rated 4–5 ÷ rated tickets (1–5 scale, top-two-box)",
    ),
    ("tickets", "Tickets opened", "count", _NEITHER, S06, "tickets with opened_at in the quarter"),
    (
        "ticket_first_response_hours",
        "First response (median hours)",
        "hours",
        _DOWN,
        S06,
        "Kaplan–Meier median hours opened_at → first_response_at of tickets opened in the quarter, tickets "
        "still waiting at the quarter end censored",
    ),
    (
        "ticket_resolution_hours",
        "Resolution (median hours)",
        "hours",
        _DOWN,
        S06,
        "Kaplan–Meier median hours opened_at → resolved_at of tickets opened in the quarter, tickets "
        "still open at the quarter end censored",
    ),
    (
        "nps",
        "NPS (% promoters − % detractors)",
        "score",
        _UP,
        S06,
        "100 × (share of answers 9–10 − share 0–6), the latest answer of each customer in the quarter",
    ),
    (
        "repeat_purchase_rate",
        "Repeat purchase rate (2nd order within 12 months)",
        "%",
        _UP,
        S06,
        "customers with a 2nd order within 365 days of their first ÷ customers whose first order was 12–24 "
        "months before the quarter end",
    ),
    (
        "repeat_within_year_km",
        "Customers reordering within 365 days (Kaplan–Meier)",
        "%",
        _UP,
        S06,
        "1 − S(365) of the Kaplan–Meier curve of days from first to second order, all customers, censored "
        "at the quarter end",
    ),
    (
        "existing_customer_revenue",
        "Order revenue from existing customers",
        "money",
        _UP,
        S06,
        "order revenue in the quarter from customers whose first order came before the quarter",
    ),
    (
        "existing_customer_revenue_share",
        "Share of order revenue from existing customers",
        "%",
        _UP,
        S06,
        "existing_customer_revenue ÷ all order revenue in the quarter",
    ),
    (
        "repeat_rate_high_csat",
        "Repeat purchase rate, high-CSAT customers",
        "%",
        _UP,
        S06,
        "repeat_purchase_rate of the cohort customers whose mean CSAT of tickets rated within 12 months of "
        "the first order is ≥ 4",
    ),
    (
        "repeat_rate_low_csat",
        "Repeat purchase rate, low-CSAT customers",
        "%",
        _UP,
        S06,
        "repeat_purchase_rate of the cohort customers whose mean CSAT of tickets rated within 12 months of "
        "the first order is < 4",
    ),
    (
        "repeat_gap_csat",
        "Repeat rate gap, high − low CSAT",
        "%",
        _NEITHER,
        S06,
        "repeat_rate_high_csat − repeat_rate_low_csat",
    ),
    (
        "referrals_per_promoter_month",
        "Referral leads per promoter per month",
        "ratio",
        _UP,
        S06,
        "slope b of referral leads(m) = a + b × promoters(m), least squares over the last 24 months; "
        "promoters(m) = customers whose latest NPS answer before month m is 9–10",
    ),
    (
        "referral_conversion_rate",
        "Referral leads → customer within 180 days",
        "%",
        _UP,
        S06,
        "referral-channel leads created in the year before the last 180 days that became customers within "
        "180 days of creation ÷ those leads",
    ),
    (
        "ltv_cac_paid",
        "LTV:CAC, all paid channels (1-year gross-margin LTV)",
        "ratio",
        _UP,
        S06,
        "Σ LTV × cohort customers ÷ Σ spend in the cohort's year over paid channels; LTV = gross_margin × "
        "revenue_12m_per_customer of the channel",
    ),
    (
        "revenue_12m_per_customer",
        "12-month revenue per customer",
        "money",
        _UP,
        S06,
        "mean over customers with a first order 12–24 months before the quarter end of Σ order amounts in "
        "the 365 days from their first order",
    ),
    # ---------------------------------------------------------------- 07 spend planning
    (
        "roi",
        "Gross margin returned per 1 spent (paid channels)",
        "ratio",
        _UP,
        S07,
        "gross_margin × amount of the deals won in the quarter, first-touch by the lead's channel, ÷ spend, "
        "over the channels with spend in the quarter",
    ),
    (
        "marketing_spend",
        "Marketing spend in the quarter",
        "money",
        _NEITHER,
        S07,
        "Σ spend.amount with month in the quarter",
    ),
    (
        "paid_cac",
        "Cost per new customer, paid channels (CAC)",
        "money",
        _DOWN,
        S07,
        "spend of the paid channels ÷ their leads whose customer_at falls in the quarter",
    ),
    (
        "channels_below_roi_target",
        "Paid channels below the ROI target",
        "count",
        _DOWN,
        S07,
        "channels with spend in the quarter whose return per 1 spent is below roi_target (audit.yaml, default 2)",
    ),
    (
        "channels_fitted",
        "Paid channels with a fitted spend→leads curve",
        "count",
        _NEITHER,
        S07,
        "paid channels whose Hill curve spend → leads was fitted (≥ 9 months of spend with a coefficient of "
        "variation ≥ 0.1, and the fit succeeded)",
    ),
    (
        "channels_fallback",
        "Paid channels on the cost-per-lead fallback",
        "count",
        _NEITHER,
        S07,
        "paid channels planned with a constant cost per lead = Σ spend ÷ Σ deseasonalised leads (too little history)",
    ),
    (
        "plan_return",
        "Expected return per 1 spent next quarter (baseline plan)",
        "ratio",
        _UP,
        S07,
        "mean over 2,000 simulated draws of gross_margin × revenue ÷ spend of next quarter's paid leads at "
        "this quarter's spend per channel",
    ),
    (
        "plan_customers",
        "Expected customers from next quarter's paid leads",
        "count",
        _UP,
        S07,
        "mean over 2,000 simulated draws of the eventual customers of next quarter's paid leads at this "
        "quarter's spend per channel",
    ),
    (
        "plan_leads_over_capacity",
        "Chance next quarter's leads exceed rep capacity",
        "%",
        _DOWN,
        S07,
        "share of the baseline plan's draws whose next-quarter leads exceed reps × mean monthly capacity per rep × 3",
    ),
    (
        "plan_reps_needed",
        "Extra reps needed next quarter (baseline plan)",
        "count",
        _DOWN,
        S07,
        "max(0, ⌈the baseline plan's mean leads per month ÷ mean capacity per rep⌉ − active reps); equals "
        "reps_needed of step 05",
    ),
    (
        "target_revenue",
        "Revenue target for next quarter",
        "money",
        _NEITHER,
        S07,
        "audit.yaml revenue_target for one quarter: {quarter: amount}, or {year: amount} ÷ 4",
    ),
    (
        "target_customers",
        "New customers the revenue target needs",
        "count",
        _NEITHER,
        S07,
        "Σ over channels of revenue ÷ revenue per new customer, the paid channels covering the target minus the "
        "unpaid channels' expected revenue in today's revenue mix",
    ),
    (
        "target_sqls",
        "SQLs the revenue target needs",
        "count",
        _NEITHER,
        S07,
        "Σ over channels of the customers the target needs ÷ the channel's SQL→customer rate",
    ),
    (
        "target_mqls",
        "MQLs the revenue target needs",
        "count",
        _NEITHER,
        S07,
        "Σ over channels of the SQLs the target needs ÷ the channel's MQL→SQL rate",
    ),
    (
        "target_leads",
        "Leads the revenue target needs",
        "count",
        _NEITHER,
        S07,
        "Σ over channels of the MQLs the target needs ÷ the channel's lead→MQL rate",
    ),
    (
        "target_spend",
        "Paid spend the revenue target needs",
        "money",
        _NEITHER,
        S07,
        "Σ over paid channels of the quarterly spend at which the fitted spend→leads curve gives the leads the "
        "target needs (recorded only when every paid channel can reach them)",
    ),
    (
        "target_channels_unreachable",
        "Paid channels that cannot reach their share of the revenue target",
        "count",
        _DOWN,
        S07,
        "paid channels whose leads for the target need more than 2× the channel's spend in the audited quarter "
        "(or more than the fitted curve can ever give)",
    ),
    (
        "target_reps_needed",
        "Extra reps needed for the revenue target's leads",
        "count",
        _DOWN,
        S07,
        "max(0, ⌈(step 05's lead forecast + the target's paid leads − today's paid leads) ÷ 3 ÷ mean capacity per "
        "rep⌉ − active reps)",
    ),
    (
        "new_channel_customers",
        "Expected customers from the new channel (stated rates)",
        "count",
        _UP,
        S07,
        "stated leads × Π stated stage rates of audit.yaml new_channel (150 × 50% × 25% = 18.75)",
    ),
    (
        "new_channel_customers_hist",
        "Expected customers from the new channel (a known channel's rates)",
        "count",
        _UP,
        S07,
        "stated leads × the Beta-posterior stage rates of the known channel the new one resembles",
    ),
    (
        "optimised_margin_gain",
        "Expected gross margin gained per quarter by re-splitting the budget",
        "money",
        _UP,
        S07,
        "expected gross margin of the optimised split − of the current split of the quarter's paid total "
        "(each channel 50%–200% of its spend; fallback channels fixed)",
    ),
    (
        "forecast_backtest_quarters",
        "Quarters backtested",
        "count",
        _NEITHER,
        S07,
        "complete quarters before the audited one whose flow was forecast from the data at their start (the last 8, each with at least 4 complete quarters of history before it)",
    ),
    (
        "forecast_mape_customers",
        "Backtest error of the new-customer forecast (MAPE)",
        "%",
        _DOWN,
        S07,
        "mean over the backtested quarters of abs(forecast − actual) ÷ actual of the company's new customers in the quarter (customer_at in the quarter), each forecast made from the data as it stood at the quarter's start",
    ),
    (
        "forecast_mape_revenue",
        "Backtest error of the won-revenue forecast (MAPE)",
        "%",
        _DOWN,
        S07,
        "mean over the backtested quarters of abs(forecast − actual) ÷ actual of the won revenue closed in the quarter (won deals, first-touch), each forecast made from the data as it stood at the quarter's start",
    ),
    (
        "forecast_bias_customers",
        "Backtest bias of the new-customer forecast",
        "%",
        _NEITHER,
        S07,
        "Σ (forecast − actual) ÷ Σ actual of the company's new customers over the backtested quarters (> 0: the forecasts ran high)",
    ),
    (
        "forecast_bias_revenue",
        "Backtest bias of the won-revenue forecast",
        "%",
        _NEITHER,
        S07,
        "Σ (forecast − actual) ÷ Σ actual of the won revenue over the backtested quarters (> 0: the forecasts ran high)",
    ),
    (
        "forecast_coverage",
        "Share of actuals inside the forecasts' 10–90% bands",
        "%",
        _NEITHER,
        S07,
        "share of the backtested quarter × series (leads, MQLs, SQLs, new customers, won revenue; company level) whose actual lies inside the forecast's 10–90% band; 80% when calibrated",
    ),
    (
        "forecast_mape_open_deals",
        "Backtest error of the open-deal part of the won-revenue forecast (MAPE)",
        "%",
        _DOWN,
        S07,
        "mean over the backtested quarters of abs(expected − actual) ÷ actual of the won revenue in the quarter from the "
        "deals open at its start (leads at the SQL stage, not lost)",
    ),
    (
        "forecast_revenue_next",
        "Won revenue forecast for next quarter",
        "money",
        _UP,
        S07,
        "won revenue expected in the quarter after the audited one: deals open at the quarter end × their win rate within a quarter by deal age, plus earlier-stage leads × their rate by stage and age, plus expected new leads × the within-quarter rate of new leads (rates from the 4 quarters before the cut)",
    ),
    (
        "forecast_customers_next",
        "New customers forecast for next quarter",
        "count",
        _UP,
        S07,
        "new customers expected in the quarter after the audited one, from the open pipeline by stage and age and from next quarter's expected new leads (as `forecast_revenue_next`)",
    ),
    (
        "forecast_revenue_open_deals",
        "Next quarter's won revenue expected from the deals open now",
        "money",
        _UP,
        S07,
        "the part of `forecast_revenue_next` from leads at the SQL stage (an open deal) at the audited quarter's end: Σ over deal-age cells of open deals × the won revenue per open deal of that age within a quarter",
    ),
]

#: Names that stand for a family of figures; :func:`lookup` resolves ``dq_score_leads``, ``finding:x``.
PATTERNS: dict[str, str] = {"dq_score_<table>": "dq_score_", "finding:<slug>": "finding:"}

_PATTERN_ROWS: list[tuple[str, str, str, bool | None, str, str]] = [
    (
        "dq_score_<table>",
        "Data-quality score: <table>",
        "score",
        _UP,
        S04,
        "100 × (1 − Σ w_c f_c ÷ Σ w_c) over the table's checks c that checked ≥ 1 row, f_c = failing share, "
        "w_c = the check's weight",
    ),
    (
        "finding:<slug>",
        "Finding: <slug>",
        "money",
        _NEITHER,
        "",
        "a finding (record_finding): estimated revenue effect per quarter of what it names, ranked by the "
        "executive summary; the label is the finding's sentence",
    ),
]

FIGURES: dict[str, FigureDef] = {r[0]: FigureDef(*r) for r in _ROWS + _PATTERN_ROWS}


def lookup(name: str) -> FigureDef | None:
    """The registered figure ``name``, or the pattern it matches (``dq_score_<table>`` for a table of the
    data contract, ``finding:<slug>`` for any slug) with its name and label filled in; None when neither."""
    got = FIGURES.get(name)
    if got is not None and name not in PATTERNS:
        return got
    table = name.removeprefix("dq_score_")
    if table != name and table in TABLES:
        p = FIGURES["dq_score_<table>"]
        return dataclasses.replace(p, name=name, label=p.label.replace("<table>", table))
    slug = name.removeprefix("finding:")
    if slug != name and slug:
        p = FIGURES["finding:<slug>"]
        return dataclasses.replace(p, name=name, label=p.label.replace("<slug>", slug))
    return None
