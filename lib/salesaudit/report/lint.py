"""``python -m salesaudit lint REPORT_DIR``: does a built report tell the truth where a reader looks?

A built report (``reports/<quarter>/``) is read the way a reader meets it: the visible text of every
HTML file (``<style>``, ``<script>``, tags and base64 images removed, entities decoded), the string
values of ``summary.json``, and the outputs of the executed notebooks (``text/markdown``, else
``text/html``, else ``text/plain``; streams; errors; ``image/png``). Rules (ids in :data:`RULES`):

1. **broken-token** — ``nan``/``NaN``, ``inf``/``-inf``/``+inf``/``inf×``, ``<NA>``, ``NaT``, a stray
   ``None``, ``n/a–n/a``; **same-from-to** — "from 100.0% to 100.0%"; **tiny-base-percentage** — a
   printed signed percentage beyond ±1000% (a change against a tiny base, see ``stats.MIN_BASE_N``); an
   unsigned level such as "1120% of quota" is not a change.
2. **demo-word** — a word only the demo company uses (:data:`DEMO_WORDS`), unless the report is the
   demo's (``demo=True``, or :func:`is_demo_report`).
3. **claim-without-n** / **claim-small-n** — a sentence saying "best", "worst", "highest", "lowest",
   "strongest", "weakest" or "beyond the noise" must show ``n = 123`` and every such n must be at least
   ``stats.MIN_CLAIM_N``. Questions (sentences ending in "?", e.g. section headings) claim nothing and
   are exempt, and so are negated claims ("No channel stands out beyond the noise": a negation before the
   claim word) and sentences stating the rule ("… only with n ≥ 30"). A table row counts as one sentence.
4. **crashed-section** — an ``error`` output, or "Traceback" / "Data problem:" in the text;
   **empty-chart** — a PNG that is blank or draws no data marks (:func:`chart_is_empty`).

Word boundaries keep "financial", "info", "infinite", "National" and "Nano" clean.

>>> [p.rule for p in lint_text("Win rate: nan; from 12% to 12%.")]
['broken-token', 'same-from-to']
>>> lint_text("Paid search converts best (n = 1,204).")
[]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from salesaudit.data import demo
from salesaudit.stats import MIN_BASE_N, MIN_CLAIM_N

__all__ = [
    "Problem",
    "RULES",
    "DEMO_WORDS",
    "lint_text",
    "lint_html",
    "lint_notebook",
    "lint_summary",
    "lint_report",
    "chart_is_empty",
    "is_demo_report",
]

RULES: dict[str, str] = {
    "broken-token": "a missing or infinite value printed as text",
    "same-from-to": "a change from a value to the same value",
    "tiny-base-percentage": f"percentage change against a tiny base (fewer than {MIN_BASE_N} cases?)",
    "demo-word": "a word only the demo company uses",
    "claim-without-n": "claim without its sample size",
    "claim-small-n": f"claim on fewer than MIN_CLAIM_N = {MIN_CLAIM_N} cases",
    "crashed-section": "a section that crashed",
    "empty-chart": "a blank chart or one that draws no data",
}
MAX_PERCENT_CHANGE = 1000.0  # |change| beyond this, in %, is a change against a tiny base

# --------------------------------------------------------------------------------------------------
# the demo's own words
# --------------------------------------------------------------------------------------------------
#: channels any company may have; the demo's other channels (the podcast) are its own
GENERIC_CHANNELS = frozenset({"paid_search", "paid_social", "events", "webinar", "organic", "referral", "partner"})
#: demo product names that are ordinary words (also a segment name)
GENERIC_PRODUCTS = frozenset({"Core", "Enterprise"})
#: fictional customers named inside the demo's content titles (the titles themselves are listed too)
DEMO_BRANDS = ("Northwind", "Contoso", "Fabrikam")


def _demo_words() -> tuple[str, ...]:
    """Every name the demo generator invents, read from :mod:`salesaudit.data.demo` (not retyped).

    Company name (and its brands), demo-only channels, product names and their injected misspellings,
    rep names and content titles. Campaign names ("Paid search 2024Q1"), e-mail streams, teams and
    countries are generic and left out. The folder ``data/demo`` is included: a real report must not
    point there.
    """
    channels = [c for c in demo.CHANNELS if c not in GENERIC_CHANNELS]
    products = [p for p in [*demo.PRODUCTS, *demo.PRODUCT_VARIANTS] if p not in GENERIC_PRODUCTS]
    titles = [spec[1] for spec in demo.CONTENT_SPEC]
    words = [demo.COMPANY, *DEMO_BRANDS, *channels, *products, *demo.REP_NAMES, *titles, "data/demo"]
    return tuple(dict.fromkeys(words))


#: one constant: the words that must not appear in a report built on anyone else's data
DEMO_WORDS: tuple[str, ...] = _demo_words()


def _word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern for whole words/phrases (longest first, optional plural "s")."""
    alts = sorted({re.escape(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<![\w/])(?:" + "|".join(alts) + r")s?(?![\w/])", re.IGNORECASE)


_DEMO_RE = _word_pattern(DEMO_WORDS)

# --------------------------------------------------------------------------------------------------
# text patterns
# --------------------------------------------------------------------------------------------------
_DASH = r"[-\u2010-\u2015\u2212]"
_BROKEN = re.compile(
    r"(?<![\w.])(?:nan|NaN|NAN)(?!\w|\.\w)"  # nan, not "financial" / "Nano"
    r"|(?<![\w.])[-+\u2212]?(?:inf|Inf|INF|infinity|Infinity)(?!\w)"  # inf, -inf, inf×; not "info"
    r"|<NA>|(?<!\w)NaT(?!\w)"
    r"|(?<![\w/])n/a\s*" + _DASH + r"\s*n/a(?![\w/])"
    r"|(?<![\w.])None(?!\w|\.\w)"  # None as a value; English "None of the …" is let through below
)
_FROM_TO = re.compile(r"\bfrom\s+(?P<x>\S+(?:\s+\S+){0,2}?)\s+to\s+(?P=x)(?![\w%]|\.\d)", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\w.])(?P<sign>[-+\u2212\u00b1]?)(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s?%")
_CLAIM = re.compile(r"\b(?:best|worst|highest|lowest|strongest|weakest|beyond\s+the\s+noise)\b", re.IGNORECASE)
_N = re.compile(r"(?<!\w)n\s*=\s*(\d{1,3}(?:,\d{3})+|\d+)(?![\d.])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_CRASH = re.compile(r"\bTraceback\b|\bData problem:")


@dataclass(frozen=True)
class Problem:
    """One problem a reader would see: where it is, which rule, and the text around it."""

    file: str
    where: str
    rule: str
    problem: str
    excerpt: str

    def line(self) -> str:
        """``file: where: problem: "…excerpt…"`` — the CLI's one line."""
        return f'{self.file}: {self.where}: {self.problem}: "{self.excerpt}"'


def _excerpt(text: str, start: int, end: int, width: int = 50) -> str:
    """The match with ``width`` characters either side within its line, whitespace collapsed, "…" where cut."""
    line_lo, line_hi = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    line_hi = len(text) if line_hi < 0 else line_hi
    lo, hi = max(line_lo, start - width), min(line_hi, end + width)
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > line_lo else "") + body + ("…" if hi < line_hi else "")


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for each line and, within it, each sentence; a table row is one line."""
    pos = 0
    for line in text.split("\n"):
        start = 0
        for m in _SENTENCE_END.finditer(line):
            yield pos + start, line[start : m.start()]
            start = m.end()
        yield pos + start, line[start:]
        pos += len(line) + 1


# --------------------------------------------------------------------------------------------------
# rules on text
# --------------------------------------------------------------------------------------------------
_ENGLISH_NONE = re.compile(r"\s+[a-z]")
_CLAUSE_START = re.compile(r"(?:^|[.!?;:(\u2013\u2014\"“])\s*$")


def _is_english_none(text: str, start: int, end: int) -> bool:
    """ "None of the reps …", "None were lost": at the start of a clause and followed by a lower-case word."""
    return bool(_ENGLISH_NONE.match(text, end)) and bool(_CLAUSE_START.search(text[max(0, start - 4) : start]))


def _broken_tokens(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _BROKEN.finditer(text):
        if m.group(0) == "None" and _is_english_none(text, m.start(), m.end()):
            continue
        yield "broken-token", f"broken token {m.group(0)!r}", _excerpt(text, m.start(), m.end())


def _same_from_to(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _FROM_TO.finditer(text):
        if any(ch.isdigit() for ch in m.group("x")) or "n/a" in m.group("x").lower():
            yield (
                "same-from-to",
                f"no change: from {m.group('x')} to {m.group('x')}",
                _excerpt(text, m.start(), m.end()),
            )


_CHANGE_WORD = re.compile(r"\b(?:up|down|rose|fell|grew|growth|change[ds]?|increase[ds]?|decrease[ds]?|vs\.?)\b", re.I)


def _tiny_base(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _PERCENT.finditer(text):
        # a change is written with its sign or a word of change; a level ("1120% of quota") is not a change
        change = bool(m.group("sign")) or bool(_CHANGE_WORD.search(text[max(0, m.start() - 24) : m.start()]))
        if change and float(m.group("num").replace(",", "")) > MAX_PERCENT_CHANGE:
            yield "tiny-base-percentage", RULES["tiny-base-percentage"], _excerpt(text, m.start(), m.end())


def _demo(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _DEMO_RE.finditer(text):
        yield "demo-word", f"demo word {m.group(0)!r} outside the demo", _excerpt(text, m.start(), m.end())


#: a claim word after one of these claims nothing ("No channel stands out beyond the noise")
_NEGATION = re.compile(r"\b(?:no|not|none|nothing|neither|nor|never|without)\b", re.IGNORECASE)
#: a sentence stating the rule itself ("called best only with n ≥ 30")
_RULE = re.compile(r"\bn\s*≥\s*\d")


def _claims(text: str) -> Iterator[tuple[str, str, str]]:
    for _, sentence in _sentences(text):
        claim = _CLAIM.search(sentence)
        if claim is None or sentence.rstrip(" *_)\"'”").endswith("?"):
            continue
        if _NEGATION.search(sentence[: claim.start()]) or _RULE.search(sentence):
            continue
        ns = [int(x.replace(",", "")) for x in _N.findall(sentence)]
        where = _excerpt(sentence, claim.start(), claim.end(), width=90)
        if not ns:
            yield "claim-without-n", f"{RULES['claim-without-n']} ({claim.group(0)!r})", where
        elif min(ns) < MIN_CLAIM_N:
            yield "claim-small-n", f"{claim.group(0)!r} claimed on n = {min(ns)} (< MIN_CLAIM_N = {MIN_CLAIM_N})", where


def _crashes(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _CRASH.finditer(text):
        yield "crashed-section", f"section crashed ({m.group(0)!r})", _excerpt(text, m.start(), m.end(), width=80)


_TEXT_RULES = (_broken_tokens, _same_from_to, _tiny_base, _claims, _crashes)


def lint_text(text: str, file: str = "", where: str = "", demo: bool = False) -> list[Problem]:
    """Every problem in one piece of visible text (lines = blocks or table rows).

    ``demo=True`` allows the demo company's words. ``file`` and ``where`` are copied into each problem.

    >>> [p.rule for p in lint_text("The financial info is infinite.")]
    []
    >>> lint_text("Anna Berg closes the most deals.")[0].rule
    'demo-word'
    """
    rules = _TEXT_RULES if demo else (*_TEXT_RULES, _demo)
    return [Problem(file, where, rule, problem, excerpt) for check in rules for rule, problem, excerpt in check(text)]


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------
_BLOCK_TAGS = frozenset(
    "p div li ul ol table thead tbody tfoot tr h1 h2 h3 h4 h5 h6 br hr section article header footer "
    "blockquote pre caption figcaption figure dl dt dd nav main aside title".split()
)
_SKIP_TAGS = frozenset({"style", "script", "svg", "noscript", "template", "head"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})


class _VisibleText(HTMLParser):
    """Collect (section, text) blocks: one per paragraph-like element, one per table row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self.section = "top"
        self._buf: list[str] = []
        self._skip = 0
        self._heading: tuple[str, list[str]] | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split()).strip(" |")
        if text:
            self.blocks.append((self.section, text))
        self._buf = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in _HEADINGS:
                self._heading = (dict(attrs).get("id") or "", [])
        elif tag in ("td", "th"):
            self._buf.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            if tag in _HEADINGS and self._heading is not None:
                ident, parts = self._heading
                title = " ".join("".join(parts).split())
                self.section = f"{ident} {title[:60]}".strip() or self.section
                self._heading = None
            self._flush()
        elif tag in ("td", "th"):
            self._buf.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._buf.append(data)
        if self._heading is not None:
            self._heading[1].append(data)


def visible_blocks(html: str) -> list[tuple[str, str]]:
    """(section, text) for the visible text of an HTML document or fragment, in reading order.

    Base64 ``<img>`` data lives in attributes and is never text; ``<style>``/``<script>`` are skipped;
    entities are decoded after the tags are gone, so ``&lt;NA&gt;`` reads as ``<NA>``.
    """
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.blocks


def _lint_blocks(blocks: Iterable[tuple[str, str]], file: str, demo: bool, prefix: str = "") -> list[Problem]:
    """Lint consecutive blocks of one section as one text (one line per block)."""
    out: list[Problem] = []
    grouped: dict[str, list[str]] = {}
    for section, text in blocks:
        grouped.setdefault(section, []).append(text)
    for section, texts in grouped.items():
        where = f"{prefix}{section}" if prefix else section
        out += lint_text("\n".join(texts), file, where, demo)
    return out


def lint_html(html: str, file: str = "report.html", demo: bool = False) -> list[Problem]:
    """Problems in the visible text of one HTML document; ``where`` is the heading's id and title."""
    return _lint_blocks(visible_blocks(html), file, demo)


# --------------------------------------------------------------------------------------------------
# notebooks
# --------------------------------------------------------------------------------------------------
_MD_TAG = re.compile(r"</?(?:br|span|div|b|i|em|strong|sup|sub|small|a|p|code|u|s|mark|font)\b[^>]*>", re.IGNORECASE)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~$])")


def markdown_text(md: str) -> str:
    """Markdown as a reader sees it: inline HTML tags, emphasis marks and backslash escapes removed."""
    text = _MD_TAG.sub(" ", md)
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"(?m)^\s{0,3}(?:#{1,6}|>|[-*+])\s+", "", text)
    text = re.sub(r"(?m)^\s*\|?\s*:?-{3,}.*$", "", text)  # table separator rows
    return _MD_ESCAPE.sub(r"\1", text)


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def output_text(output: dict) -> str:
    """What a reader sees of one output as text ("" for images, widgets and recorded figures)."""
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text"))
    if kind == "error":
        return _ANSI.sub(
            "", "\n".join([f"{output.get('ename')}: {output.get('evalue')}", *output.get("traceback", [])])
        )
    data = output.get("data", {})
    if "text/markdown" in data:
        return markdown_text(_joined(data["text/markdown"]))
    if "text/html" in data:
        return "\n".join(text for _, text in visible_blocks(_joined(data["text/html"])))
    if "text/plain" in data and not any(k.startswith(("image/", "application/vnd.jupyter.widget")) for k in data):
        return _joined(data["text/plain"])
    return ""


def _heading_of(cell: dict) -> str | None:
    """The last markdown heading in a markdown cell, if any."""
    if cell.get("cell_type") != "markdown":
        return None
    heads = re.findall(r"(?m)^\s{0,3}#{1,4}\s+(.+?)\s*#*\s*$", _joined(cell.get("source")))
    return markdown_text(heads[-1]).strip() if heads else None


def lint_notebook(nb: dict, file: str = "notebook.ipynb", demo: bool = False) -> list[Problem]:
    """Problems in an executed notebook's outputs; ``where`` is ``cell N (§ heading)``."""
    out: list[Problem] = []
    heading = ""
    for i, cell in enumerate(nb.get("cells", [])):
        heading = _heading_of(cell) or heading
        where = f"cell {i}" + (f" ({heading[:60]})" if heading else "")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                msg = f"{output.get('ename')}: {output.get('evalue')}"
                out.append(Problem(file, where, "crashed-section", "section crashed (error output)", msg[:160]))
                continue
            out += lint_text(output_text(output), file, where, demo)
            png = output.get("data", {}).get("image/png")
            if png is not None:
                reason = _empty_png_reason(_joined(png))
                if reason:
                    out.append(Problem(file, where, "empty-chart", reason, "<image/png>"))
    return out


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
BLANK_INK = 0.005  # below 0.5% of pixels differing from the background: a blank image
DATA_INK = 0.0002  # below 0.02% of pixels in colour: no data marks (axes, grid and text are grey/black)
MAX_FRAME_INK = 0.10  # …unless the grey ink covers 10%+ (e.g. bars drawn in grey)


def ink_fractions(rgb: np.ndarray) -> tuple[float, float]:
    """(non-background share, coloured share) of an ``H×W×3`` uint8 image.

    Background = the most common colour; a pixel is ink when a channel differs from it by more than 16;
    it is coloured when max(R,G,B) − min(R,G,B) > 48 (the workbook draws data in the colour-blind
    palette; the theme draws axes, grid lines and text in neutral greys).
    """
    px = rgb.reshape(-1, rgb.shape[-1])[:, :3].astype(np.int16)
    keys = (px[:, 0].astype(np.int32) << 16) | (px[:, 1].astype(np.int32) << 8) | px[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    bg = values[counts.argmax()]
    bg_rgb = np.array([(bg >> 16) & 255, (bg >> 8) & 255, bg & 255], dtype=np.int16)
    ink = (np.abs(px - bg_rgb).max(axis=1) > 16).mean()
    colour = ((px.max(axis=1) - px.min(axis=1)) > 48).mean()
    return float(ink), float(colour)


def chart_is_empty(rgb: np.ndarray) -> str | None:
    """Why a chart image looks empty, or ``None`` when it draws data. A simple, documented heuristic:

    * **blank** — fewer than :data:`BLANK_INK` (0.5%) of the pixels differ from the background;
    * **no data marks** — fewer than :data:`DATA_INK` (0.02%) of the pixels are coloured and the neutral
      ink stays under :data:`MAX_FRAME_INK` (10%): only axes, grid, ticks and titles were drawn.
      An empty seaborn-themed axes has ≈3.5% grey ink and 0% colour; a bar chart ≈30% colour; a single
      palette line ≈0.8%; two scatter points ≈0.04%. A chart drawn only in black or grey thin lines
      would be flagged — draw data in the palette.
    """
    ink, colour = ink_fractions(rgb)
    if ink < BLANK_INK:
        return f"blank chart ({ink:.2%} of pixels drawn)"
    if colour < DATA_INK and ink < MAX_FRAME_INK:
        return f"chart draws no data marks ({colour:.3%} coloured pixels, only axes and text)"
    return None


def _empty_png_reason(b64: str) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(base64.b64decode(b64))) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        return "image that cannot be decoded"
    return chart_is_empty(rgb)


# --------------------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------------------
def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def lint_summary(doc: Any, file: str = "summary.json", demo: bool = False) -> list[Problem]:
    """Problems in the string values of ``summary.json`` (and non-finite numbers, written as NaN/Infinity)."""
    out: list[Problem] = []
    for path, value in _leaves(doc):
        if isinstance(value, str):
            out += lint_text(value, file, path, demo)
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(Problem(file, path, "broken-token", f"non-finite number {value!r}", f"{path}: {value!r}"))
    return out


# --------------------------------------------------------------------------------------------------
# a report folder
# --------------------------------------------------------------------------------------------------
def _company_of(report_dir: Path) -> str | None:
    """The company named by summary.json, else by the audit.yaml the executed notebooks were given."""
    summary = report_dir / "summary.json"
    if summary.is_file():
        try:
            company = json.loads(summary.read_text(encoding="utf-8")).get("company")
        except (json.JSONDecodeError, AttributeError):
            company = None
        if company:
            return str(company)
    import yaml

    for path in sorted(report_dir.glob("*.ipynb")):
        try:
            params = json.loads(path.read_text(encoding="utf-8"))["metadata"]["papermill"]["parameters"]
            cfg = Path(params["data_dir"]) / params.get("config", "audit.yaml")
            return str(yaml.safe_load(cfg.read_text(encoding="utf-8")).get("company"))
        except (KeyError, TypeError, OSError, json.JSONDecodeError, AttributeError, yaml.YAMLError):
            continue
    return None


def is_demo_report(report_dir: str | Path) -> bool:
    """Whether a built report is the demo company's: its company is :data:`salesaudit.data.demo.COMPANY`."""
    return _company_of(Path(report_dir)) == demo.COMPANY


def _read(path: Path) -> tuple[Any, Problem | None]:
    try:
        text = path.read_text(encoding="utf-8")
        return (json.loads(text) if path.suffix in (".json", ".ipynb") else text), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Problem(path.name, "file", "crashed-section", "file cannot be read", str(exc)[:160])


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def lint_report(report_dir: Path, demo: bool | None = None) -> list[Problem]:
    """Every problem in a built report folder: ``*.html``, ``summary.json`` and ``*.ipynb``.

    ``demo=None`` asks :func:`is_demo_report`; ``True`` allows the demo's words; ``False`` forbids them.
    A missing folder or one with nothing to read is itself a problem.
    """
    report_dir = Path(report_dir)
    if demo is None:
        demo = is_demo_report(report_dir)
    files = [
        *sorted(report_dir.glob("*.html")),
        *sorted(report_dir.glob("summary.json")),
        *sorted(report_dir.glob("*.ipynb")),
    ]
    if not files:
        return [
            Problem(
                str(report_dir), "folder", "crashed-section", "no report here", "no *.html, summary.json or *.ipynb"
            )
        ]
    out: list[Problem] = []
    for path in files:
        content, problem = _read(path)
        if problem is not None:
            out.append(problem)
        elif path.suffix == ".html":
            out += lint_html(content, path.name, demo)
        elif path.suffix == ".json":
            out += lint_summary(content, path.name, demo)
        else:
            out += lint_notebook(content, path.name, demo)
    return _dedupe(out)


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report_dir", help="a built report folder, e.g. reports/2026Q3")
    p.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow (--demo) or forbid (--no-demo) the demo company's words; default: ask summary.json",
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per problem on stdout and exit 1, or say it is clean and exit 0."""
    report_dir = Path(args.report_dir)
    problems = lint_report(report_dir, args.demo)
    for p in problems:
        print(p.line())
    if problems:
        print(f"{len(problems)} problem(s) in {report_dir}", file=sys.stderr)
        return 1
    print(f"OK: {report_dir} reads clean")
    return 0
