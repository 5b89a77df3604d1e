"""The one finding type every audit step returns, and the executive summary ranks.

A finding is a sentence about something the audit found (a leak in the funnel, leads nobody contacted,
revenue no order backs …), what to do about it, and what it is worth. Each step's ``story`` module builds
its findings as :class:`Finding` objects; the notebook records them with
``salesaudit.report.record.record_findings`` (a figure named ``finding:<slug>`` per finding), and the
executive summary reads them back and ranks them by ``impact``.

>>> f = Finding("never_contacted_leads", "120 leads were never contacted.", 3000.0, basis="leads × rate gap × deal")
>>> f.in_section("02_tools_and_content#4").section
'02_tools_and_content#4'
>>> f.figure_name
'finding:never_contacted_leads'
>>> Finding("", "no slug", 1.0)
Traceback (most recent call last):
...
ValueError: a finding needs a slug (the non-empty <slug> of its figure name finding:<slug>), got ''
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FIGURE_PREFIX", "Finding"]

#: the recorded figure of a finding is named ``FIGURE_PREFIX + slug`` (``salesaudit.report.figures``
#: registers the pattern ``finding:<slug>`` and accepts any non-empty slug)
FIGURE_PREFIX = "finding:"


@dataclass(frozen=True)
class Finding:
    """One finding of an audit step.

    * ``slug`` — a stable identifier (``"funnel_leak_mql_sal"``, ``"channel_Paid search_lead_mql"``): the
      recorded figure is named ``finding:<slug>``, so a slug is unique within a quarter's report and the
      same finding keeps its name from quarter to quarter. It may hold data-derived words (a channel's
      name); it is never shown to a reader as text.
    * ``text`` — the finding in one or two sentences, built from the numbers (the executive summary
      shows it as written; data-derived words already formatted by :mod:`salesaudit.text`).
    * ``impact`` — the estimated effect **per quarter, in money of the configured currency, on the
      revenue scale**: revenue at stake or to gain (a step whose model gives gross margin divides by
      the gross margin). Every step prices on this one scale so that the executive summary can rank
      findings of different steps against each other; ``0.0`` says "nothing at stake" (e.g. "no step
      got worse"), and such a finding is listed in its notebook but not ranked.
    * ``section`` — the notebook section it belongs to (``"01_sales_process#5"``), which the executive
      summary links to; ``""`` until the notebook places it with :meth:`in_section` (or the step's
      function was given the section). Recording a finding needs one.
    * ``recommendation`` — what to do, one sentence.
    * ``basis`` — how ``impact`` was estimated, one clause (``"entries × change in loss × later-stage
      conversion × average won deal"``), shown beside the number.
    * ``evidence`` — the records behind the finding, a DataFrame whose ``len()`` is the count the sentence
      states (the 20 stale deals of "20 open deals … have had no activity"), or None for a finding no
      record backs. Recording the finding keeps only the columns :mod:`salesaudit.evidence` allows and the
      report build writes them to ``reports/<Q>/evidence/<slug>.csv``. Not compared, not in the repr.

    Validation: ``slug`` must be a non-empty string (what the registry accepts after ``finding:``) and
    ``impact`` a finite real number (stored as a ``float``; a string or a bool is not one); anything else
    raises ``ValueError``.
    """

    slug: str
    text: str
    impact: float
    section: str = ""
    recommendation: str = ""
    basis: str = ""
    evidence: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not self.slug:
            raise ValueError(
                f"a finding needs a slug (the non-empty <slug> of its figure name {FIGURE_PREFIX}<slug>), "
                f"got {self.slug!r}"
            )
        if not isinstance(self.impact, numbers.Real) or isinstance(self.impact, bool):
            raise ValueError(f"finding {self.slug!r}: impact must be a number (money a quarter), got {self.impact!r}")
        impact = float(self.impact)
        if not math.isfinite(impact):
            raise ValueError(f"finding {self.slug!r}: impact must be finite (money a quarter), got {impact!r}")
        object.__setattr__(self, "impact", impact)
        if self.evidence is not None and not (hasattr(self.evidence, "columns") and hasattr(self.evidence, "loc")):
            raise ValueError(f"finding {self.slug!r}: evidence must be a DataFrame of the records behind it")

    @property
    def count(self) -> int | None:
        """The number of records behind the finding (``len(evidence)``), None without evidence."""
        return None if self.evidence is None else len(self.evidence)

    def with_evidence(self, rows: Any) -> Finding:
        """A copy of the finding carrying ``rows`` (a DataFrame) as its evidence."""
        return dataclasses.replace(self, evidence=rows)

    @property
    def figure_name(self) -> str:
        """The name of the recorded figure: ``finding:<slug>``."""
        return FIGURE_PREFIX + self.slug

    def in_section(self, section: str) -> Finding:
        """A copy of the finding placed in the notebook section ``section`` (e.g. ``"05_sales_effectiveness#2"``)."""
        return dataclasses.replace(self, section=section)
