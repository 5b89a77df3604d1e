"""Formatting numbers into the sentences of "What this means" sections.

Sentences are built from the numbers by the metric modules; this module formats and displays them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def _nan(x) -> bool:
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or bool(np.isnan(x))
    except TypeError:
        return False


def pct(x, digits: int = 1) -> str:
    """0.1234 → ``12.3%``; missing → ``n/a``."""
    return "n/a" if _nan(x) else f"{100 * float(x):.{digits}f}%"


def pp(x, digits: int = 1) -> str:
    """A difference of shares in percentage points: 0.021 → ``+2.1 pp``."""
    return "n/a" if _nan(x) else f"{100 * float(x):+.{digits}f} pp"


def num(x, digits: int = 0) -> str:
    """Thousands separators: 12345.6 → ``12,346``."""
    if _nan(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def money(x, currency: str = "EUR", digits: int = 0) -> str:
    """``EUR 12,346``; large values abbreviated (``EUR 1.2M``)."""
    if _nan(x):
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
    from .stats import MIN_BASE_N

    minimum = MIN_BASE_N if minimum is None else minimum
    if _nan(now) or _nan(base):
        return "no comparison"
    if float(base) < minimum:
        return f"from {num(base)} to {num(now)}"
    return f"{100 * (float(now) / float(base) - 1):+.{digits}f}%"


def days(x, digits: int = 0) -> str:
    return "n/a" if _nan(x) else f"{float(x):,.{digits}f} days"


def interval(lo, hi, fmt=pct) -> str:
    """``(90% interval 10.2%–14.1%)``."""
    if _nan(lo) or _nan(hi):
        return ""
    return f"(90% interval {fmt(lo)}–{fmt(hi)})"


def change_word(
    diff: float, lo: float | None = None, hi: float | None = None, up: str = "up", down: str = "down"
) -> str:
    """``up``/``down`` when the interval excludes 0, else ``about the same (within noise)``."""
    if lo is not None and hi is not None and not _nan(lo) and not _nan(hi):
        if lo <= 0 <= hi:
            return "about the same (the change is within the noise)"
    if _nan(diff) or diff == 0:
        return "unchanged"
    return up if diff > 0 else down


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]<>()#+-.!|~"})


def md_escape(value) -> str:
    """Data-derived text made inert for Markdown and HTML: Markdown punctuation is backslash-escaped and
    ``<``, ``>``, ``&`` become entities, so a company, campaign or rep name never becomes markup."""
    import html

    return html.escape(str(value), quote=False).translate(_MD_SPECIAL)


def bullets(sentences: Iterable[str]) -> str:
    items = [s for s in sentences if s]
    return "\n".join(f"- {s}" for s in items) if items else "- No data for this section."


def what_this_means(sentences: Iterable[str], title: str = "What this means"):
    """A Markdown block ``**What this means**`` + bullet sentences, for ``display``."""
    from IPython.display import Markdown

    return Markdown(f"**{title}**\n\n{bullets(sentences)}")


def note(text: str):
    """A Markdown note (e.g. "No e-mail data: section skipped")."""
    from IPython.display import Markdown

    return Markdown(f"> {text}")
