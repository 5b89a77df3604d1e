"""A report built from hostile names is inert in a real browser and prints no contact from free text (issue 11).

The small demo company is copied and every free-text field the report prints is replaced with markup that
would run if it reached the page live — content titles, campaign names, rep names, e-mail stream names,
products, segments, lost and disqualify reasons, ticket categories and the company name in audit.yaml —
plus e-mail addresses and phone numbers in the free text. The report is built (HTML and PDF), then:

* the HTML holds no ``<script>``, ``<iframe>``, ``<object>``, ``<embed>`` element and no ``on…=`` attribute;
* headless Chromium (Playwright, as tests/test_browser_lab.py) opens it: no dialog fires, no payload ran
  (``window.__pwned`` unset), no injected element exists, and the hostile text is shown as text;
* neither the HTML nor the PDF's text holds the planted e-mail addresses or phone numbers.

Needs Debian's Chromium at ``/usr/bin/chromium`` and the Python package ``playwright``; skipped with the
reason when either is missing (the static checks run regardless).
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

CHROMIUM = "/usr/bin/chromium"
EMAILS = ("jane.doe@example.com", "bob.smith@example.org")
PHONES = ("+48 601 234 567", "(555) 010-0199")
PAYLOADS = {
    "img": '<img src=x onerror="window.__pwned=1;alert(1)">',
    "script": "<script>window.__pwned=2;alert(2)</script>",
    "svg": "<svg onload=window.__pwned=3>",
    "iframe": '"><iframe src="javascript:window.__pwned=4"></iframe>',
    "link": "[click me](javascript:window.__pwned=5)",
    "style": "</style><script>window.__pwned=6</script>",
}

pytestmark = [pytest.mark.slow]


def _hostile(small: Path, out: Path) -> Path:
    """A copy of ``small`` whose printed free text is hostile (payload + index keeps values distinct)."""
    shutil.copytree(small, out)
    p = list(PAYLOADS.values())

    def rewrite(table: str, column: str, make) -> None:
        path = out / f"{table}.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        codes, uniques = pd.factorize(df[column].replace("", None))
        names = {i: make(i, v) for i, v in enumerate(uniques)}
        df[column] = [names[c] if c >= 0 else "" for c in codes]
        df.to_csv(path, index=False)

    rewrite("content", "title", lambda i, v: f"{p[i % len(p)]} Guide {i}")
    rewrite("campaigns", "name", lambda i, v: f"{p[(i + 1) % len(p)]} Campaign {i}")
    rewrite("reps", "name", lambda i, v: f"{p[(i + 2) % len(p)]} Rep {i}")
    rewrite("email_sends", "stream", lambda i, v: f"{p[(i + 3) % len(p)]} Stream {i}")
    rewrite("opportunities", "product", lambda i, v: f"{p[(i + 4) % len(p)]} {v}")
    rewrite("leads", "segment", lambda i, v: f"{p[(i + 5) % len(p)]} {v}")
    rewrite("opportunities", "lost_reason", lambda i, v: f"{v} - ask {EMAILS[i % 2]} or {PHONES[i % 2]}")
    rewrite("leads", "disqualify_reason", lambda i, v: f"{v} (call {PHONES[i % 2]}, mail {EMAILS[i % 2]})")
    rewrite("tickets", "category", lambda i, v: f"{p[i % len(p)]} {v} {EMAILS[i % 2]}")
    cfg = yaml.safe_load((out / "audit.yaml").read_text())
    cfg["company"] = f"Acme {PAYLOADS['style']} {PAYLOADS['img']}"
    if cfg.get("products"):
        cfg["products"] = [f"{p[(i + 4) % len(p)]} {v}" for i, v in enumerate(cfg["products"])]
    (out / "audit.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return out


class _Live(HTMLParser):
    """Live elements and event-handler attributes in an HTML document."""

    DANGEROUS = {"script", "iframe", "object", "embed", "frame", "applet", "base", "meta", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.DANGEROUS and not (tag == "meta" and all(k in ("charset", "name", "content") for k, _ in attrs)):
            self.found.append(f"<{tag}>")
        for k, v in attrs:
            if k.startswith("on"):
                self.found.append(f"<{tag} {k}=…>")
            if k in ("href", "src", "action", "formaction") and v and re.match(r"\s*(javascript|vbscript):", v, re.I):
                self.found.append(f"<{tag} {k}={v[:30]}>")


@pytest.fixture(scope="module")
def hostile_report(small_data, tmp_path_factory):
    from salesaudit.report.build import build_report

    data = _hostile(small_data, tmp_path_factory.mktemp("hostile") / "data")
    res = build_report(
        data, "latest", reports_dir=tmp_path_factory.mktemp("reports"), compare=False, pdf=True, progress=False
    )
    return res


def test_the_hostile_names_reach_the_report(hostile_report):
    html = hostile_report.html.read_text(encoding="utf-8")
    assert "Guide " in html and "Campaign " in html  # the rewritten names are printed …
    assert "&lt;img src=x onerror" in html or "&lt;img src=x onerror".replace("&lt;", "&amp;lt;") in html  # … as text


def test_no_live_element_and_no_contact_in_html_or_pdf(hostile_report):
    html = hostile_report.html.read_text(encoding="utf-8")
    parser = _Live()
    parser.feed(html)
    assert parser.found == []
    for contact in EMAILS + PHONES:
        assert contact not in html
    assert not re.search(r"[\w.+-]+@example\.(?:com|org)", html.replace("***@example", ""))
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(hostile_report.pdf).pages)
    assert "Guide " in text
    for contact in EMAILS + PHONES:
        assert contact not in text
    assert "601 234 567" not in text and "010-0199" not in text


@pytest.mark.browser
def test_chromium_runs_nothing(hostile_report):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium) to run this test")
    playwright = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    dialogs: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            timeout=30_000,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(hostile_report.html.as_uri(), wait_until="load", timeout=60_000)
            page.wait_for_timeout(500)  # let any onerror/onload handler fire
            pwned = page.evaluate("() => window.__pwned")
            live = page.evaluate(
                "() => document.querySelectorAll('script, iframe, object, embed, svg, "
                '[onerror], [onload], a[href^="javascript"]\').length'
            )
            shown = page.evaluate("() => document.body.innerText")
        finally:
            browser.close()
    assert dialogs == []
    assert pwned is None
    assert live == 0
    assert "<img src=x onerror=" in shown  # the payload is visible as text, not run
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
