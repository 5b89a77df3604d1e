"""The report's PDF in parts: each step section laid out on its own, in two processes, kept by content, stitched.

WeasyPrint lays a document out in one thread (≈ 13 s for the demo's 64 pages, then ≈ 4.5 s to write it). Every step
section starts on a new page (``section.step { break-before: page }``), so a section's pages do not depend on the
sections before it — only their numbers do. So:

1. the report HTML is cut into the front matter (cover, contents) and one part per step section;
2. each section is rendered as its own document *without* page numbers, half of them in another interpreter
   (WeasyPrint holds the interpreter lock), and kept in ``<cache>/pdf-parts/<key>.pdf`` with its anchors and the
   links it could not resolve, key = SHA-256(the part's HTML · WeasyPrint's version · :data:`PARTS_VERSION`): a
   section whose HTML did not change is not laid out again;
3. the front matter is rendered last, its contents listing the page each heading landed on
   (page = front pages + the pages of the sections before + the page within the section);
4. the parts are joined with pypdf (outlines and named destinations kept), the links between parts are added as
   named-destination links, and "Page k of N" is stamped on every page but the cover, in the font and place the
   one-document ``@page`` rule used.

A report whose HTML cannot be cut this way (no step section) is rendered as one document (:func:`write_pdf`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from salesaudit.data.io import cache_root

__all__ = [
    "PARTS_VERSION",
    "finish_worker",
    "pdf_files",
    "render_part",
    "render_parts",
    "split_report",
    "start_worker",
    "write_pdf",
    "write_report_pdf",
]

log = logging.getLogger(__name__)
PARTS_VERSION = "1"  # bump when the way a part is rendered changes (its cached PDFs are then not reused)
_SECTION = re.compile(r'<section class="step" data-notebook="[^"]*">')
_TOC_LINK = re.compile(r'(<li class="l\d"><a href="#)([^"]+)(")')
_NO_NUMBERS = "@page { @bottom-right { content: none; } }"
_TOC_NUMBERS = "@media print { nav.toc a::after { content: leader('.') attr(data-page); } }"


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    # the report is self-contained: only embedded data: images are read, never a URL a data value injected
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def _not_between_parts(record: logging.LogRecord) -> bool:
    """Drop WeasyPrint's "No anchor #x" error: a link to another part is added when the parts are joined."""
    return not str(record.msg).startswith("No anchor")


def _quiet() -> None:
    weasy = logging.getLogger("weasyprint")
    weasy.setLevel(logging.ERROR)
    if _not_between_parts not in weasy.filters:
        weasy.addFilter(_not_between_parts)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def write_pdf(html: str, path: Path, base_url: Path) -> None:
    """Render HTML to PDF with WeasyPrint (CSS paged media), as one document."""
    _quiet()
    from weasyprint import HTML

    HTML(string=html, base_url=str(base_url), url_fetcher=_fetcher()).write_pdf(str(path))


def split_report(html: str) -> tuple[str, str, list[str]] | None:
    """``(head, front, sections)`` of the assembled report (``salesaudit.report.build.assemble_html``): ``head`` up
    to and with ``<body>``, ``front`` the cover and contents, ``sections`` each ``<section class="step" …>…``; None
    when there is no step section or the parts do not join back to ``html``."""
    start = html.find("<body>")
    end = html.rfind("</body>")
    if start < 0 or end < start:
        return None
    head, body = html[: start + len("<body>")], html[start + len("<body>") : end]
    cuts = [m.start() for m in _SECTION.finditer(body)]
    if not cuts:
        return None
    front = body[: cuts[0]]
    sections = [body[a:b] for a, b in zip(cuts, [*cuts[1:], len(body)])]
    if head + front + "".join(sections) + html[end:] != html:
        return None
    return head, front, sections


def _document(head: str, body: str, extra_css: str) -> str:
    return head.replace("</head>", f"<style>{extra_css}</style></head>", 1) + body + "</body></html>"


def render_part(html_file: str, pdf_file: str) -> dict:
    """Lay out one part, write its PDF and ``<pdf>.json``: its pages' count and size, its anchors
    ``{id: [page, x, y]}`` and the internal links it could not resolve ``[[page, target, [x1, y1, x2, y2]]]`` (CSS px
    from the page's top left)."""
    _quiet()
    from weasyprint import HTML

    html = Path(html_file).read_text(encoding="utf-8")
    doc = HTML(string=html, base_url=str(Path(html_file).parent), url_fetcher=_fetcher()).render()
    anchors = {name: [i, xy[0], xy[1]] for i, page in enumerate(doc.pages) for name, xy in page.anchors.items()}
    links = [
        [i, target, list(rect)]
        for i, page in enumerate(doc.pages)
        for kind, target, rect, _box in page.links
        if kind == "internal" and target not in anchors
    ]
    doc.write_pdf(pdf_file)
    size = [doc.pages[0].width, doc.pages[0].height] if doc.pages else [0, 0]
    meta = {"pages": len(doc.pages), "size": size, "anchors": anchors, "links": links}
    Path(pdf_file + ".json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def render_parts(jobs: list[tuple[str, str]]) -> None:
    """:func:`render_part` for each ``(html file, pdf file)`` (the other interpreter's entry point)."""
    for html_file, pdf_file in jobs:
        render_part(html_file, pdf_file)


def _balanced(jobs: list[tuple[str, str, int]]) -> tuple[list, list]:
    """Two groups of about equal HTML size (longest first to the lighter group)."""
    a: list = []
    b: list = []
    sa = sb = 0
    for job in sorted(jobs, key=lambda j: -j[2]):
        if sa <= sb:
            a.append(job[:2])
            sa += job[2]
        else:
            b.append(job[:2])
            sb += job[2]
    return a, b


def start_worker(entry: str, jobs: list[tuple[str, str]]) -> subprocess.Popen:
    """Run ``salesaudit.report.pdf.<entry>(jobs)`` in a new interpreter (``python -c``: not a fork of a process
    running kernel-client threads, not multiprocessing's spawn, which re-imports the caller's main script);
    WeasyPrint holds the interpreter lock, so a thread would not run beside this process."""
    lib = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([lib, *filter(None, [os.environ.get("PYTHONPATH")])]))
    code = f"import json, sys; from salesaudit.report.pdf import {entry}; {entry}(json.loads(sys.argv[1]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(jobs)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_worker(proc: subprocess.Popen) -> str | None:
    """Wait for a :func:`start_worker` process; its last error line when it failed, else None."""
    _, err = proc.communicate()
    if proc.returncode == 0:
        return None
    return ([ln for ln in (err or "").strip().splitlines() if ln.strip()][-1:] or [f"exit {proc.returncode}"])[0]


def pdf_files(jobs: list[tuple[str, str]]) -> None:
    """Render each ``(html file, pdf file)`` with :func:`write_pdf` (relative URLs from the HTML's folder)."""
    for html_file, pdf_file in jobs:
        write_pdf(Path(html_file).read_text(encoding="utf-8"), Path(pdf_file), Path(html_file).parent)


def _render_all(jobs: list[tuple[str, str, int]], workers: int) -> None:
    """Render the parts, half of them (by size) in another interpreter when ``workers`` > 1."""
    if not jobs:
        return
    here, there = _balanced(jobs) if workers > 1 and len(jobs) > 1 else ([j[:2] for j in jobs], [])
    proc = start_worker("render_parts", there) if there else None
    try:
        render_parts(here)
    finally:
        error = finish_worker(proc) if proc is not None else None
    if error:
        raise RuntimeError(f"a part of the PDF could not be rendered: {error}")


def _prune(folder: Path, keep: set[Path], max_age_days: float = 30) -> None:
    """Mark the parts used now; remove parts no build used for ``max_age_days``."""
    import time

    now = time.time()
    for p in keep:
        for f in (p, Path(f"{p}.json")):
            try:
                os.utime(f, (now, now))
            except OSError:
                pass
    for f in folder.glob("*.pdf*"):
        try:
            if f not in keep and now - f.stat().st_mtime > max_age_days * 86400:
                f.unlink()
        except OSError:
            pass


def _stamp(pages: int, page_rule: str) -> bytes:
    """``pages`` blank pages carrying only "Page k of N" where the report's ``@page`` rule puts it."""
    from weasyprint import HTML

    css = (
        page_rule
        + "@page { @top-left { content: none; } @top-right { content: none; } }"
        + "@page :first { @bottom-right { content: none; } } div { break-after: page; }"
        + 'html { font-family: "DejaVu Sans", "Helvetica Neue", Helvetica, Arial, sans-serif; }'
    )
    return HTML(string=f"<style>{css}</style>" + "<div></div>" * pages).write_pdf()


def write_report_pdf(
    html: str,
    path: Path,
    base_url: Path,
    *,
    page_rule: str,
    workers: int = 2,
    cache: Path | None = None,
    reuse: bool = True,
) -> dict[str, int]:
    """Render the assembled report to ``path`` in parts (module docstring); ``page_rule`` is the report's ``@page``
    CSS (:func:`salesaudit.report.build.page_css`), whose "Page k of N" is stamped. Returns
    ``{"parts": n, "reused": k, "pages": N}``. ``reuse=False`` lays every part out again (``--no-reuse``)."""
    _quiet()
    split = split_report(html)
    if split is None:
        write_pdf(html, path, base_url)
        return {"parts": 1, "reused": 0, "pages": 0}
    import weasyprint
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject

    head, front, sections = split
    folder = (cache or cache_root()) / "pdf-parts"
    folder.mkdir(parents=True, exist_ok=True)
    parts, todo = [], []
    with tempfile.TemporaryDirectory(prefix="pdf-", dir=folder) as tmp:
        for body in sections:
            doc = _document(head, body, _NO_NUMBERS)
            key = hashlib.sha256(f"{PARTS_VERSION}|{weasyprint.__version__}|{doc}".encode()).hexdigest()[:24]
            pdf = folder / f"{key}.pdf"
            parts.append(pdf)
            if not (reuse and pdf.is_file() and Path(f"{pdf}.json").is_file()):
                src = Path(tmp) / f"{key}.html"
                src.write_text(doc, encoding="utf-8")
                todo.append((str(src), str(Path(tmp) / f"{key}.pdf"), len(body)))
        _render_all(todo, workers)
        for _src, out, _n in todo:  # into the cache only once whole
            os.replace(f"{out}.json", folder / f"{Path(out).name}.json.tmp")
            os.replace(out, folder / Path(out).name)
            os.replace(folder / f"{Path(out).name}.json.tmp", folder / f"{Path(out).name}.json")
    metas = [json.loads(Path(f"{p}.json").read_text(encoding="utf-8")) for p in parts]
    _prune(folder, keep=set(parts))

    # the front matter, its contents numbered from where each heading landed
    from weasyprint import HTML

    def front_doc(numbers: dict[str, int]) -> Any:
        body = _TOC_LINK.sub(lambda m: f'{m.group(1)}{m.group(2)}" data-page="{numbers.get(m.group(2), "")}"', front)
        return HTML(
            string=_document(head, body, _NO_NUMBERS + _TOC_NUMBERS), base_url=str(base_url), url_fetcher=_fetcher()
        ).render()

    where: dict[str, tuple[int, float, float]] = {}  # anchor → (page in the whole PDF, x, y)

    def numbered(front_pages: int) -> dict[str, int]:
        where.clear()
        first = front_pages
        for meta in metas:
            for name, (i, x, y) in meta["anchors"].items():
                where.setdefault(name, (first + i, x, y))
            first += meta["pages"]
        return {name: p + 1 for name, (p, _x, _y) in where.items()}

    probe = front_doc(numbered(2))
    front_pages = len(probe.pages)
    fdoc = front_doc(numbered(front_pages)) if front_pages != 2 else probe
    if len(fdoc.pages) != front_pages:  # numbers of another width moved a page: number once more
        front_pages = len(fdoc.pages)
        fdoc = front_doc(numbered(front_pages))
    for i, page in enumerate(fdoc.pages):
        for name, xy in page.anchors.items():
            where.setdefault(name, (i, xy[0], xy[1]))
    front_links = [
        [i, target, list(rect)]
        for i, page in enumerate(fdoc.pages)
        for kind, target, rect, _box in page.links
        if kind == "internal" and not any(target in p.anchors for p in fdoc.pages)
    ]
    front_pdf = fdoc.write_pdf()

    writer = PdfWriter()
    front_reader = PdfReader(io.BytesIO(front_pdf))
    writer.append(front_reader)
    for p in parts:
        writer.append(PdfReader(str(p)))
    if front_reader.metadata:
        writer.add_metadata({k: v for k, v in front_reader.metadata.items() if isinstance(v, str)})
    total = len(writer.pages)
    height = float(writer.pages[0].mediabox.height)
    scale = 0.75  # CSS px → PDF points

    offsets, first = [], front_pages
    for meta in metas:
        offsets.append(first)
        first += meta["pages"]
    unresolved = [(i, t, r) for i, t, r in front_links] + [
        (off + i, t, r) for off, meta in zip(offsets, metas) for i, t, r in meta["links"]
    ]
    for page_no, target, (x1, y1, x2, y2) in unresolved:
        if target not in where:
            continue
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(
                    [FloatObject(x1 * scale), FloatObject(height - y2 * scale)]
                    + [FloatObject(x2 * scale), FloatObject(height - y1 * scale)]
                ),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
                NameObject("/Dest"): TextStringObject(target),
            }
        )
        writer.add_annotation(page_no, annot)
    stamp = PdfReader(io.BytesIO(_stamp(total, page_rule)))
    for i in range(1, total):
        writer.pages[i].merge_page(stamp.pages[i], over=True)
    tmp_out = path.with_name(f".{path.name}.tmp")
    with open(tmp_out, "wb") as f:
        writer.write(f)
    os.replace(tmp_out, path)
    return {"parts": len(parts), "reused": len(parts) - len(todo), "pages": total}
