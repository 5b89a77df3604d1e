"""Executed notebooks reused when nothing they read has changed.

The model is jupyter-cache (the cache Jupyter Book uses): a notebook is re-executed only when its code changed.
Here the key is everything an executed notebook's outputs depend on:

    key = SHA-256( the notebook's cells (type, source, tags) and kernel
                 · the injected parameters (quarter, data folder, config …)
                 · the bytes of every input file the build names (the executive summary's figures files)
                 · the validated data's key (raw files' SHA-256 + audit.yaml + contract version)
                 · every file of the salesaudit package · Python's version · every installed distribution's version
                 · today's date (the extraction date and "today" in step 04 default to it)
                 · whether charts are rendered, and the tags of the cells left out )

An analyst who edits one notebook's text re-runs that notebook only (and the executive summary when a figure
changed); a rebuild of unchanged inputs re-runs none. Stored as ``<cache>/<data key>/executed/<stem>-<key>.ipynb``
(the executed notebook itself, JSON: nothing is unpickled), written atomically; the newest
:data:`KEEP` per notebook are kept. ``--no-reuse`` (or ``SALESAUDIT_REUSE=0``) executes every notebook.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from salesaudit.data.io import cache_root

__all__ = ["KEEP", "environment_version", "lookup", "notebook_key", "reuse_enabled", "store"]

log = logging.getLogger(__name__)
KEEP = 3  # executed versions kept per notebook and data (older ones are removed when a new one is stored)
_ENV: str | None = None


def reuse_enabled() -> bool:
    """False when ``SALESAUDIT_REUSE`` is ``0``/``false``/``no`` (every notebook is executed)."""
    return os.environ.get("SALESAUDIT_REUSE", "1").strip().lower() not in ("0", "false", "no", "off")


def environment_version() -> str:
    """SHA-256 (16 hex digits) of every file of the ``salesaudit`` package (not byte-code), Python's version and
    the name and version of every installed distribution: a changed metric, template, pandas or matplotlib
    re-executes every notebook."""
    global _ENV
    if _ENV is None:
        from salesaudit.data.derived import code_version  # the package's .py files: the derived tables' key

        pkg = Path(__file__).resolve().parents[1]
        h = hashlib.sha256(f"{sys.version}|{code_version()}".encode())
        for p in sorted(pkg.rglob("*")):  # and its other files (the report's stylesheet, data tables)
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc"):
                h.update(p.relative_to(pkg).as_posix().encode())
                h.update(p.read_bytes())
        dists = sorted(f"{d.metadata.get('Name', '')}=={d.version}" for d in metadata.distributions())
        h.update("\n".join(dists).encode())
        _ENV = h.hexdigest()[:16]
    return _ENV


def _cells(src: Path) -> list[Any]:
    doc = json.loads(src.read_text(encoding="utf-8"))
    cells = []
    for c in doc.get("cells", []):
        source = c.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = sorted(str(t) for t in (c.get("metadata", {}).get("tags") or []))
        cells.append([c.get("cell_type"), source, tags])
    kernel = doc.get("metadata", {}).get("kernelspec", {}).get("name")
    return [kernel, cells]


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "absent"


def notebook_key(
    src: Path,
    params: dict[str, Any],
    *,
    data_key: str,
    inputs: Iterable[Path] = (),
    charts: bool = True,
    skip_tags: Iterable[str] = (),
    today: _dt.date | None = None,
) -> str:
    """The key of one execution (see the module docstring): 24 hex digits. A parameter naming one of ``inputs``
    counts by that file's content, not its path (the executive summary's figures file is written into each
    build's own temporary folder)."""
    files = list(dict.fromkeys(str(p) for p in inputs))  # in the order given
    named = {f: f"input:{i}" for i, f in enumerate(files)}
    blob = {
        "v": 1,
        "notebook": _cells(src),
        "params": {str(k): named.get(str(v), str(v)) for k, v in sorted(params.items())},
        "inputs": [_file_digest(Path(f)) for f in files],
        "data": data_key,
        "environment": environment_version(),
        "today": (today or _dt.date.today()).isoformat(),
        "charts": bool(charts),
        "skip": sorted(map(str, skip_tags)),
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:24]


def _folder(data_key: str) -> Path:
    return cache_root() / data_key / "executed"


def lookup(data_key: str, stem: str, key: str) -> Path | None:
    """The executed notebook stored under ``key``, or None."""
    path = _folder(data_key) / f"{stem}-{key}.ipynb"
    return path if path.is_file() else None


def store(data_key: str, stem: str, key: str, executed: Path | Any) -> None:
    """Keep an executed notebook (a path, or a ``NotebookNode``) under ``key``; keep the newest :data:`KEEP` of
    ``stem``. A cache that cannot be written only costs time."""
    folder = _folder(data_key)
    final = folder / f"{stem}-{key}.ipynb"
    tmp = folder / f".{final.name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(executed, (str, Path)):
            shutil.copyfile(executed, tmp)
        else:
            import nbformat

            nbformat.write(executed, str(tmp))
        os.replace(tmp, final)
        older = sorted(folder.glob(f"{stem}-*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for p in older:
            p.unlink(missing_ok=True)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.warning("could not keep the executed %s for reuse (%s)", stem, exc)
