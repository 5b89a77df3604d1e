"""Sales audit workbook: the shared, tested metrics the audit notebooks import.

Layers (docs/architecture.md), each importing only the ones before it:

* foundations — ``config`` ``periods`` ``stats`` ``claims`` ``errors`` ``text`` ``plots`` ``findings`` (and the
  rules two steps share: ``speed`` ``capacity`` ``deals``);
* ``salesaudit.data`` — files in, validated tables out;
* ``salesaudit.steps`` — one package per audit notebook;
* ``salesaudit.report`` — executed notebooks → the quarterly report;
* ``cli`` — ``python -m salesaudit``.

Submodules are imported on use, so importing the package stays cheap. The flat names of version 0.1
(``salesaudit.funnel``, ``salesaudit.io`` …) still import — they are the same module objects as their new
homes (:data:`MOVED`) — so an analyst's own notebook written against them keeps working.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.2.0"

#: old flat module name → its home in the layered package
MOVED: dict[str, str] = {
    "contract": "data.contract",
    "io": "data.io",
    "coverage": "data.coverage",
    "dates": "data.dates",
    "demo": "data.demo",
    "importers": "data.importers",
    "funnel": "steps.process",
    "volume": "steps.process",
    "engagement": "steps.tools",
    "content": "steps.tools",
    "leadquality": "steps.leads",
    "dataquality": "steps.reporting",
    "reps": "steps.sales",
    "service": "steps.service",
    "planning": "steps.planning",
    "record": "report.record",
    "nb": "report.nb",
    "sections": "report.sections",
    "execute": "report.execute",
    "summary": "report.summary",
    "lint": "report.lint",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import salesaudit.funnel`` → the module ``salesaudit.steps.process`` itself (not a copy)."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head != __name__ or not rest:
            return None
        first, _, tail = rest.partition(".")
        if first not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        first, _, tail = spec.name.partition(".")[2].partition(".")
        return importlib.import_module(f"{__name__}.{MOVED[first]}" + (f".{tail}" if tail else ""))

    def exec_module(self, module):
        pass  # the real module was executed when it was imported under its own name


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
