"""Recording key figures from a notebook, and reading them back from an executed notebook.

``record("close_rate", 0.23, label="Close rate", unit="%", lo=0.2, hi=0.26, n=812)`` displays an
``application/json`` output tagged as a figure. Tests, the executive summary, ``summary.json`` and the
quarter-over-quarter comparison read these back with :func:`read_figures` — nothing is computed twice.

Units: ``"%"`` (a share 0–1), ``"days"``, ``"hours"``, ``"money"``, ``"count"``, ``"ratio"``, ``"score"`` or ``""``.

Every figure is registered in :mod:`salesaudit.report.figures` (its label, unit, direction and
definition). :func:`figure` takes the label, unit and ``higher_is_better`` from there when they are not
given and raises ``ValueError`` when a given unit or direction disagrees (a given label always wins: it
may be more specific than the registry's generic one). :func:`record` — what notebooks call — also
refuses a name that is not registered. :func:`figure` alone accepts an unregistered name (with unit ``""``
and a label made from the name), so tests and tools can build payloads of made-up figures.

Findings (:class:`salesaudit.findings.Finding`, what every step's ``story`` returns) are recorded with
:func:`record_finding` / :func:`record_findings` as the figure ``finding:<slug>`` (``kind="finding"``,
unit ``"money"``, value = impact); :func:`findings_of` reads them back. Both still take the keyword
arguments / dicts of version 0.2 for analysts' own notebooks.

Evidence: ``record(name, value, evidence=rows)`` and a :class:`Finding` whose ``evidence`` is a DataFrame
also display the rows behind the figure (the allowed columns of :mod:`salesaudit.evidence`, as CSV text)
in an ``application/json`` output marked ``salesaudit_evidence`` — persisted in the executed notebook as
the figures are — and add ``evidence`` (``"evidence/<file>.csv"``) and ``evidence_rows`` to the figure's
payload. The report build writes the files (:func:`salesaudit.report.evidence.write_evidence`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from salesaudit import evidence as ev
from salesaudit.findings import FIGURE_PREFIX, Finding
from salesaudit.report.figures import lookup

MARKER = "salesaudit_figure"
EVIDENCE_MARKER = "salesaudit_evidence"


class _Unset:
    """The default of an argument that was not given (``higher_is_better=None`` is a value: "neither")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def figure(
    name: str,
    value: Any,
    *,
    label: str | None = None,
    unit: str | None = None,
    lo: float | None = None,
    hi: float | None = None,
    n: float | None = None,
    section: str | None = None,
    higher_is_better: bool | None = UNSET,
    **extra: Any,
) -> dict:
    """The JSON payload of one recorded figure (no display).

    ``label``, ``unit`` and ``higher_is_better`` default to the figure's entry in
    :mod:`salesaudit.report.figures`; a given ``unit`` or ``higher_is_better`` that disagrees with it raises
    ``ValueError``. A name that is not registered keeps the old defaults (unit ``""``, direction None).
    """
    reg = lookup(name)
    if reg is not None:
        if unit is not None and unit != reg.unit:
            raise ValueError(
                f"figure {name!r} is recorded with unit {unit!r} but salesaudit.report.figures registers "
                f"unit {reg.unit!r}"
            )
        if higher_is_better is not UNSET and higher_is_better != reg.higher_is_better:
            raise ValueError(
                f"figure {name!r} is recorded with higher_is_better={higher_is_better!r} but "
                f"salesaudit.report.figures registers higher_is_better={reg.higher_is_better!r}"
            )
        label = label or reg.label
        unit = reg.unit
        higher_is_better = reg.higher_is_better
    payload = {
        MARKER: name,
        "value": _plain(value),
        "label": label or name.replace("_", " ").capitalize(),
        "unit": "" if unit is None else unit,
        "lo": _plain(lo),
        "hi": _plain(hi),
        "n": _plain(n),
        "section": section,
        "higher_is_better": None if higher_is_better is UNSET else higher_is_better,
    }
    payload.update({k: _plain(v) for k, v in extra.items()})
    json.dumps(payload)  # fail early on anything not serialisable
    return payload


def evidence_payload(name: str, rows: Any) -> dict:
    """The ``application/json`` payload of the records behind figure ``name``: ``{salesaudit_evidence:
    name, file, rows, csv}`` (only the allowed columns, :func:`salesaudit.evidence.csv_text`)."""
    frame = ev.evidence_frame(rows)
    file = ev.file_name(name.removeprefix(FIGURE_PREFIX))  # a finding's file is named by its slug
    return {EVIDENCE_MARKER: name, "file": file, "rows": len(frame), "csv": ev.csv_text(frame)}


def _display_json(payload: dict, root: str) -> None:
    try:
        from IPython.display import display

        # JupyterLab's JSON viewer shows it as one collapsed line; the report strips it
        display(
            {"application/json": payload}, raw=True, metadata={"application/json": {"expanded": False, "root": root}}
        )
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass


def record(name: str, value: Any, *, evidence: Any = None, **kwargs: Any) -> dict:
    """Record a key figure: display it as ``application/json`` (a collapsed line in JupyterLab, removed
    from the HTML report).

    ``name`` must be registered in :mod:`salesaudit.report.figures` (``ValueError`` otherwise); label,
    unit and direction come from there unless given (:func:`figure`). ``evidence`` (a DataFrame of the
    records behind the figure, e.g. the stale deals a count counts) is displayed too (:func:`evidence_payload`)
    and named in the payload (``evidence``, ``evidence_rows``) — unless ``value`` is None (nothing counted).
    """
    if lookup(name) is None:
        raise ValueError(f"figure {name!r} is not in salesaudit.report.figures: add it there")
    if value is None:  # a check that could not run: no figure, so no evidence file either
        evidence = None
    if evidence is not None:
        rows = evidence_payload(name, evidence)
        kwargs.update(evidence=f"{ev.FOLDER}/{rows['file']}", evidence_rows=rows["rows"])
    payload = figure(name, value, **kwargs)
    _display_json(payload, f"recorded: {name}")
    if evidence is not None:
        _display_json(rows, f"evidence: {name}")
    return payload


def read_evidence(notebook: Any) -> dict[str, dict]:
    """``{figure name: evidence payload}`` of an executed notebook (path or NotebookNode); the last wins."""
    if isinstance(notebook, (str, Path)):
        import nbformat

        notebook = nbformat.read(str(notebook), as_version=4)
    out: dict[str, dict] = {}
    for cell in notebook.get("cells", []):
        for o in cell.get("outputs", []) or []:
            data = o.get("data", {}).get("application/json") if isinstance(o.get("data"), dict) else None
            if isinstance(data, dict) and EVIDENCE_MARKER in data:
                out[str(data[EVIDENCE_MARKER])] = dict(data)
    return out


def read_figures(notebook: Any) -> dict[str, dict]:
    """``{name: payload}`` of every figure recorded in an executed notebook (path or NotebookNode).

    A figure recorded twice keeps its last value.
    """
    if isinstance(notebook, (str, Path)):
        import nbformat

        notebook = nbformat.read(str(notebook), as_version=4)
    out: dict[str, dict] = {}
    for cell in notebook.get("cells", []):
        for o in cell.get("outputs", []) or []:
            if o.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = o.get("data", {}).get("application/json")
            if isinstance(data, str):
                try:
                    data = json.loads(data)
                except ValueError:
                    continue
            if isinstance(data, dict) and MARKER in data:
                out[data[MARKER]] = dict(data)
    return out


def figure_values(notebook: Any) -> dict[str, Any]:
    """``{name: value}`` of the recorded figures."""
    return {k: v.get("value") for k, v in read_figures(notebook).items()}


def _as_finding(finding: Finding | Mapping[str, Any]) -> Finding:
    """A :class:`~salesaudit.findings.Finding`, or the dict ``{slug, text, impact, section, recommendation,
    basis}`` of version 0.2's steps (``recommendation`` and ``basis`` optional) made into one."""
    if isinstance(finding, Finding):
        return finding
    if isinstance(finding, Mapping):
        return Finding(
            slug=finding["slug"],
            text=finding["text"],
            impact=finding["impact"],
            section=finding.get("section", ""),
            recommendation=finding.get("recommendation", ""),
            basis=finding.get("basis", ""),
        )
    raise TypeError(
        f"a finding is a salesaudit.findings.Finding (or a dict of its fields), got {type(finding).__name__}"
    )


def record_finding(
    finding: Finding | str | None = None,
    text: str | None = None,
    *,
    slug: str | None = None,
    impact: float | None = None,
    section: str | None = None,
    recommendation: str = "",
    basis: str = "",
) -> dict:
    """Record a finding for the executive summary, ranked there by its ``impact``.

    ``record_finding(finding)`` takes a :class:`salesaudit.findings.Finding` (what every step's ``story``
    returns; its docstring says what each field means): ``impact`` is the estimated effect per quarter on
    the revenue scale of the configured currency, so findings from different steps are ranked on one
    scale. The figure is named ``finding:<slug>`` (unit ``"money"``, ``kind="finding"``, the sentence as
    its label). The finding needs a ``section`` (``finding.in_section("01_sales_process#3")``): the
    executive summary links to it; ``ValueError`` without one.

    The keyword form of version 0.2, ``record_finding(slug, text, impact=…, section=…, recommendation=…,
    basis=…)`` (``slug`` and ``text`` by position or by name, so ``record_finding(**old_dict, section=…)``
    works too), is still accepted for analysts' own notebooks (it builds the same ``Finding``, so the same
    validation applies: a non-empty slug, a finite impact); the workbook itself passes ``Finding`` objects.
    """
    if isinstance(finding, Finding):
        if any(x is not None for x in (text, slug, impact, section)) or recommendation or basis:
            raise TypeError("record_finding(finding) takes a Finding alone; place it with finding.in_section(...)")
    else:
        if (finding is None) == (slug is None):
            raise TypeError("record_finding takes a Finding, or the slug of the keyword form (once)")
        if text is None or impact is None or section is None:
            raise TypeError("record_finding(slug, text, impact=…, section=…) needs text, impact and section")
        finding = Finding(slug if finding is None else finding, text, impact, section, recommendation, basis)
    if not finding.section:
        raise ValueError(f"finding {finding.slug!r} has no section: record finding.in_section('<notebook>#<section>')")
    payload = record(
        finding.figure_name,
        finding.impact,
        label=finding.text,
        unit="money",
        section=finding.section,
        kind="finding",
        recommendation=finding.recommendation,
        basis=finding.basis,
        evidence=finding.evidence,
    )
    _show_evidence_link(payload)
    return payload


def evidence_line(payload: Mapping[str, Any]) -> str | None:
    """The Markdown line shown beside a recorded finding that has records behind it: "Records behind this
    finding: [N records (CSV)](evidence/<file>.csv)" — the file the build writes (the name is the slug made safe,
    :func:`salesaudit.evidence.file_name`, never text from the data); None without evidence."""
    path, rows = payload.get("evidence"), payload.get("evidence_rows")
    if not isinstance(path, str) or not isinstance(rows, int):
        return None
    name = path.removeprefix(f"{ev.FOLDER}/")
    if ev.relative_path(name.removesuffix(".csv")) != path:
        return None
    return f"Records behind this finding: [{rows:,} record{'' if rows == 1 else 's'} (CSV)]({path})"


def _show_evidence_link(payload: Mapping[str, Any]) -> None:
    line = evidence_line(payload)
    if line is None:
        return
    try:
        from IPython.display import Markdown, display

        display(Markdown(line))
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass


def findings_of(figures: dict[str, dict]) -> list[dict]:
    """The recorded findings among ``figures``, largest impact first (ties by name)."""
    out = [dict(v, name=k) for k, v in figures.items() if v.get("kind") == "finding"]
    return sorted(out, key=lambda f: (-(f.get("value") or 0.0), f["name"]))


def record_many(figures: list[dict]) -> list[dict]:
    """Record each ``{name, value, **kwargs}`` of a list a step built (e.g. ``dataquality.score_figures``)."""
    return [
        record(f["name"], f["value"], **{k: v for k, v in f.items() if k not in ("name", "value")}) for f in figures
    ]


def record_findings(findings: Iterable[Finding | Mapping[str, Any]]) -> list[dict]:
    """Record each finding of a list a step built (``[Finding, …]``, possibly empty) with :func:`record_finding`.

    The dicts ``{slug, text, impact, section, recommendation, basis}`` of version 0.2 (``recommendation``
    and ``basis`` optional) are still accepted, for analysts' own notebooks; each becomes a ``Finding``.
    """
    return [record_finding(_as_finding(f)) for f in findings]
