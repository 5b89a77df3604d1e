"""Evidence files of a build: the records behind every finding and actionable count, one CSV each.

The notebooks record them (``record.record(name, value, evidence=rows)``, or a ``Finding`` whose
``evidence`` is set) as ``application/json`` outputs of the executed notebook, the way figures are
recorded; :func:`write_evidence` reads them from the executed notebooks in the build folder and writes
``<build>/evidence/<file>.csv``, which becomes ``reports/<Q>/evidence/`` when the build is published.
The file names and columns are :mod:`salesaudit.evidence`'s (an allow-list: no e-mail, phone or name).
"""

from __future__ import annotations

import re
from pathlib import Path

from salesaudit import evidence as ev
from salesaudit.report.record import read_evidence


class EvidenceClash(ValueError):
    """Two recorded figures would write the same evidence file."""


def write_evidence(build: str | Path) -> dict[str, str]:
    """Write the evidence of every executed ``NN_*.ipynb`` in ``build`` to ``build/evidence/``.

    Returns ``{figure name: "evidence/<file>.csv"}``. The file name is recomputed from the figure name
    (:func:`salesaudit.evidence.file_name`), not taken from the notebook; two figures that would share a
    file raise :class:`EvidenceClash`. The CSV text is written as recorded (already only allowed columns);
    no folder is created when nothing was recorded.
    """
    build = Path(build)
    written: dict[str, str] = {}
    owner: dict[str, str] = {}
    for path in sorted(build.glob("[0-9][0-9]_*.ipynb")):
        for name, payload in sorted(read_evidence(path).items()):
            file = ev.file_name(name.removeprefix("finding:"))
            if file in owner and owner[file] != name:
                raise EvidenceClash(f"{owner[file]} and {name} would both write {ev.FOLDER}/{file}")
            owner[file] = name
            folder = build / ev.FOLDER
            folder.mkdir(exist_ok=True)
            (folder / file).write_text(str(payload.get("csv", "")), encoding="utf-8")
            written[name] = f"{ev.FOLDER}/{file}"
    return written


_LINK = re.compile(r'<a href="(evidence/[a-z0-9_-]{1,80}\.csv)">([^<]*)</a>')


def unlinked_for_print(html: str) -> str:
    """The report HTML for the PDF: each link to an evidence file becomes its text and the file's path
    (``13 records (CSV): evidence/x.csv``). A PDF would otherwise carry the link as an absolute ``file://``
    URL of the build folder — a path that is gone once the build is published, and the server's."""
    return _LINK.sub(lambda m: f'<span class="evidence-file">{m.group(2)}: {m.group(1)}</span>', html)
