"""Derived tables computed once per data and reused: by the notebooks of one build, by the previous
quarter's comparison pass and by later builds of the same data.

A derived table is a DataFrame that a step computes from the validated data alone (a quarter's backtest
forecast, the data-quality scores at a past quarter end …). :func:`cached_frame` keeps it

- in this process (a warm kernel runs many notebooks; a second call returns the same frame), and
- on disk beside the validated Parquet, ``<cache>/<data key>/derived/<name>-<key>.parquet``, where the data key
  is the loader's hash of the raw files and the settings (:attr:`AuditData.cache_key`) and ``<key>`` hashes the
  parameters and the source of the ``salesaudit`` package, so any change of the code or the data computes
  afresh.

The store is Parquet plus a JSON sidecar for the column dtypes — never pickle: nothing read from the cache can
run code. A file that cannot be read or written only costs time (the frame is computed). Without a data key
(data built by hand, ``use_cache=False``) nothing is cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from salesaudit.data.io import cache_root

__all__ = ["cached_frame", "code_version", "clear_memo", "derived_dir"]

log = logging.getLogger(__name__)
_MEMO: dict[tuple[str, str], pd.DataFrame] = {}
_MEMO_MAX = 64
_CODE: str | None = None


def code_version() -> str:
    """SHA-256 (first 16 hex digits) of every ``.py`` file of the ``salesaudit`` package, in path order."""
    global _CODE
    if _CODE is None:
        pkg = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for p in sorted(pkg.rglob("*.py")):
            h.update(str(p.relative_to(pkg)).encode())
            h.update(p.read_bytes())
        _CODE = h.hexdigest()[:16]
    return _CODE


def derived_dir(data_key: str) -> Path:
    """``<cache>/<data key>/derived`` (:func:`salesaudit.data.io.cache_root`)."""
    return cache_root() / data_key / "derived"


def _key(name: str, params: dict[str, Any]) -> str:
    blob = json.dumps({"name": name, "params": params, "code": code_version()}, sort_keys=True, default=str)
    return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


def _read(path: Path) -> pd.DataFrame | None:
    meta_path = path.with_suffix(".json")
    if not (path.exists() and meta_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        df = pd.read_parquet(path)
        for c, dt in meta["object_columns"].items():
            df[c] = df[c].astype(object).where(df[c].notna(), None if dt == "none" else float("nan"))
        df.attrs = meta.get("attrs", {})
        return df
    except Exception as exc:  # a damaged entry is computed again, never trusted
        log.warning("derived table %s unreadable (%s); computing it", path, exc)
        return None


def _write(df: pd.DataFrame, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        obj = {}
        for c in df.columns:
            if df[c].dtype == object:
                missing = df[c][df[c].isna()]
                obj[str(c)] = "none" if len(missing) == 0 or missing.iloc[0] is None else "nan"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
        os.close(fd)
        df.to_parquet(tmp)
        meta_tmp = tmp[: -len(".parquet")] + ".json"
        Path(meta_tmp).write_text(json.dumps({"object_columns": obj, "attrs": df.attrs}, default=str))
        os.replace(meta_tmp, path.with_suffix(".json"))
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError) as exc:  # a cache that cannot be written only costs time
        log.warning("could not write derived table %s (%s)", path, exc)
        for p in (locals().get("tmp"), locals().get("meta_tmp")):
            if p and os.path.exists(p):
                os.unlink(p)


def cached_frame(data_key: str, name: str, params: dict[str, Any], compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``compute()``, or the frame an earlier call with the same data key, name, parameters and code stored.

    ``params`` must be JSON-serialisable (labels, numbers); the frame's columns must be Parquet-storable. The
    caller gets a copy, so changing it cannot change what later callers read.
    """
    if not data_key:
        return compute()
    key = _key(name, params)
    hit = _MEMO.get((data_key, key))
    if hit is None:
        path = derived_dir(data_key) / f"{key}.parquet"
        hit = _read(path)
        if hit is None:
            hit = compute()
            _write(hit, path)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[(data_key, key)] = hit
    out = hit.copy()
    out.attrs = json.loads(json.dumps(hit.attrs, default=str))
    return out


def clear_memo() -> None:
    """Forget the in-process copies (tests)."""
    _MEMO.clear()
