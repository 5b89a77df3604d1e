"""Formatting numbers into the sentences of "What this means" sections.

Sentences are built from the numbers by the metric modules; this module formats and displays them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd


def is_missing(x) -> bool:
    """True for None, NaN and NaT-like values (a cell that holds no number)."""
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or bool(np.isnan(x))
    except TypeError:
        return False


def pct(x, digits: int = 1) -> str:
    """0.1234 → ``12.3%``; missing → ``n/a``."""
    return "n/a" if is_missing(x) else f"{100 * float(x):.{digits}f}%"


def pp(x, digits: int = 1) -> str:
    """A difference of shares in percentage points: 0.021 → ``+2.1 pp``."""
    return "n/a" if is_missing(x) else f"{100 * float(x):+.{digits}f} pp"


def num(x, digits: int = 0) -> str:
    """Thousands separators: 12345.6 → ``12,346``."""
    if is_missing(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def money(x, currency: str = "EUR", digits: int = 0) -> str:
    """``EUR 12,346``; large values abbreviated (``EUR 1.2M``)."""
    if is_missing(x):
        return "n/a"
    v = float(x)
    if abs(v) >= 1e6:
        return f"{currency} {v / 1e6:,.1f}M"
    if abs(v) >= 1e4:
        return f"{currency} {v / 1e3:,.0f}k"
    return f"{currency} {v:,.{digits}f}"


def change_pct(now, base, minimum: int | None = None, digits: int = 0) -> str:
    """A relative change as ``+12%`` — or, when the base is below ``minimum`` (``stats.MIN_BASE_N``),
    as counts ``from 4 to 2,655``: a percentage of a handful of cases is noise, not news."""
    from salesaudit.stats import MIN_BASE_N

    minimum = MIN_BASE_N if minimum is None else minimum
    if is_missing(now) or is_missing(base):
        return "no comparison"
    if float(base) < minimum:
        return f"from {num(base)} to {num(now)}"
    return f"{100 * (float(now) / float(base) - 1):+.{digits}f}%"


def days(x, digits: int = 0) -> str:
    return "n/a" if is_missing(x) else f"{float(x):,.{digits}f} days"


def hours(x, digits: int = 1) -> str:
    """``5.3 hours``; ``n/a`` when missing."""
    return "n/a" if is_missing(x) else f"{float(x):,.{digits}f} hours"


def interval(lo, hi, fmt=pct) -> str:
    """``(90% interval 10.2%–14.1%)``."""
    if is_missing(lo) or is_missing(hi):
        return ""
    return f"(90% interval {fmt(lo)}–{fmt(hi)})"


def change_word(
    diff: float, lo: float | None = None, hi: float | None = None, up: str = "up", down: str = "down"
) -> str:
    """``up``/``down`` when the interval excludes 0, else ``about the same (within noise)``."""
    if lo is not None and hi is not None and not is_missing(lo) and not is_missing(hi):
        if lo <= 0 <= hi:
            return "about the same (the change is within the noise)"
    if is_missing(diff) or diff == 0:
        return "unchanged"
    return up if diff > 0 else down


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]<>()#+-.!|~"})
_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b")
#: a phone number: "+" and 9–15 digits with separators, or a 3-3-3/4 group ("601 234 567", "(555) 010-0100");
#: dates (2026-09-30) and thousands (12,345) never match
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{7,18}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{3,4})(?![\w-])")
#: links and images whose target is neither an anchor of the report itself nor one of its evidence files
#: (``evidence/<file>.csv`` beside the HTML; the file name of :func:`salesaudit.evidence.file_name`)
_FOREIGN_LINK = re.compile(r"(!?)\[([^\]]*)\]\((?!#|evidence/[a-z0-9_-]{1,80}\.csv\))(?:[^()]|\([^()]*\))*\)")


def mask_contacts(value) -> str:
    """E-mail addresses and phone numbers in free text masked before they are printed.

    ``jane.doe@example.com`` → ``j***@example.com``; ``+48 601 234 567`` → ``+48 ••• ••• 567`` (the last three
    digits kept). A phone number is a run of at least 9 digits with the usual separators.
    """

    def phone(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) < 9:
            return m.group(0)
        return ("+" if m.group(0).startswith("+") else "") + "•••" + digits[-3:]

    return _PHONE.sub(phone, _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", str(value)))


def md_escape(value) -> str:
    """Data-derived text made inert for Markdown and HTML: contacts masked (:func:`mask_contacts`), Markdown
    punctuation backslash-escaped and ``<``, ``>``, ``&`` turned into entities, so a company, campaign or rep
    name never becomes markup."""
    import html

    return html.escape(mask_contacts(value), quote=False).translate(_MD_SPECIAL)


def safe_markdown(md: str) -> str:
    """Markdown the audit wrote, with whatever data it quotes made inert — the one gate every sentence, note
    and finding passes before it is displayed.

    The audit's own markup is kept (``**bold**``, ``*italic*``, `` `code` ``, lists, links to ``#anchors`` in
    the report, and to its evidence files ``evidence/<file>.csv``); raw HTML is not (``<`` and ``>`` become entities, so ``<img src=x onerror=…>`` in a content
    title is text); links and images to anything but an anchor keep only their text; e-mail addresses and
    phone numbers are masked.
    """
    out = _FOREIGN_LINK.sub(lambda m: m.group(2), mask_contacts(md))
    return out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("&amp;amp;", "&amp;")


def bullets(sentences: Iterable[str]) -> str:
    items = [safe_markdown(s) for s in sentences if s]
    return "\n".join(f"- {s}" for s in items) if items else "- No data for this section."


def what_this_means(sentences: Iterable[str], title: str = "What this means"):
    """A Markdown block ``**What this means**`` + bullet sentences, for ``display``."""
    from IPython.display import Markdown

    return Markdown(f"**{safe_markdown(title)}**\n\n{bullets(sentences)}")


def note(text: str):
    """A Markdown note (e.g. "No e-mail data: section skipped")."""
    from IPython.display import Markdown

    return Markdown(f"> {safe_markdown(text)}")


def fmt_ci(value, lo, hi, digits: int = 1, scale: float = 100.0, suffix: str = "%") -> pd.Series:
    """``12.3% (11.0–13.5)`` strings for a column of values with their interval (``n/a`` when missing)."""
    v, lo, hi = (pd.Series(np.asarray(x, dtype=float)) * scale for x in (value, lo, hi))

    def f(x: float) -> str:
        return f"{x:.{digits}f}".replace("-", "−")

    if not len(v):  # an empty column: string arithmetic on an empty float Series would fail
        return pd.Series([], dtype=object, index=value.index if isinstance(value, pd.Series) else None)
    sep = pd.Series(np.where(lo < 0, " to ", "–"))
    s = v.map(f) + suffix + " (" + lo.map(f) + sep + hi.map(f) + ")"
    s = s.where(lo.notna() & hi.notna(), v.map(f) + suffix)  # no interval: the value alone
    return s.where(v.notna(), "n/a").set_axis(value.index if isinstance(value, pd.Series) else s.index)


def num_interval(value, lo, hi, digits: int = 0) -> str:
    """A value with its interval: ``1,234 (1,000–1,500)``; the value alone when there is no lower bound (never
    ``nan–…``), ``1,234 (at least 1,000)`` when there is no upper bound (e.g. a CAC when some draws win no
    customer); ``n/a`` without a value."""
    if not np.isfinite(value):
        return "n/a"
    if not np.isfinite(lo):
        return f"{value:,.{digits}f}"
    if not np.isfinite(hi):
        return f"{value:,.{digits}f} (at least {lo:,.{digits}f})"
    return f"{value:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"
