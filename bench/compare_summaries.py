"""Compare two reports' ``summary.json`` figure by figure: the check to run when a computation changes.

    python bench/compare_summaries.py BEFORE/summary.json AFTER/summary.json [--ignore unit,label]

Prints one line per figure that differs (value, interval, n, label, unit, any other key), per figure only
in one of them, and whether the headline and the findings are equal; exit code 0 when every compared
figure is equal, 1 otherwise. Floats are equal when they agree to 1e-12 relative.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def _equal(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def figures_of(doc: dict) -> dict[str, dict]:
    """``{figure name: payload}`` over every notebook of a summary.json."""
    out: dict[str, dict] = {}
    for stem, figs in sorted((doc.get("figures") or {}).items()):
        for name, payload in figs.items():
            out[f"{stem}/{name}"] = payload
    return out


def compare(before: dict, after: dict, ignore: set[str]) -> list[str]:
    fb, fa = figures_of(before), figures_of(after)
    lines = []
    for name in sorted(set(fb) | set(fa)):
        if name not in fa:
            lines.append(f"only before: {name}")
            continue
        if name not in fb:
            lines.append(f"only after:  {name}")
            continue
        for key in sorted((set(fb[name]) | set(fa[name])) - ignore):
            if not _equal(fb[name].get(key), fa[name].get(key)):
                lines.append(f"differs: {name} {key}: {fb[name].get(key)!r} → {fa[name].get(key)!r}")
    for key in ("headline", "findings"):
        if key in before or key in after:
            if not _equal(before.get(key), after.get(key)):
                lines.append(f"differs: {key}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--ignore", default="", help="payload keys not compared, comma-separated (e.g. unit)")
    args = ap.parse_args(argv)
    before = json.loads(args.before.read_text(encoding="utf-8"))
    after = json.loads(args.after.read_text(encoding="utf-8"))
    ignore = {k for k in args.ignore.split(",") if k}
    lines = compare(before, after, ignore)
    n = len(set(figures_of(before)) | set(figures_of(after)))
    for line in lines:
        print(line)
    print(
        f"{n} figures compared; {len(lines)} difference(s)"
        + (f" (ignoring {', '.join(sorted(ignore))})" if ignore else "")
    )
    return 0 if not lines else 1


if __name__ == "__main__":
    sys.exit(main())
