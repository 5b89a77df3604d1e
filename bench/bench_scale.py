"""Benchmark the report at company sizes: 250k, 1M and 5M generated leads (``make bench-scale``).

    python bench/bench_scale.py                          # 250000 1000000 5000000 leads
    python bench/bench_scale.py --sizes 250000 1000000   # a subset
    python bench/bench_scale.py --against /tmp/prev      # and the same with another checkout, as ratios

Each size is a demo company generated once into ``.cache/bench/demo-<N>`` (seed 7; about 2.5 min and 350 MB per
million leads) and built cold (empty cache) and warm (same cache) by :mod:`bench_report`. The last lines fit the
growth law — wall time and peak memory as ``a + b × leads`` by least squares over the sizes — so the figures in
docs/performance.md can be checked and extended.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import ROOT, bench, print_table  # noqa: E402


def demo_folder(n: int, seed: int = 7) -> Path:
    """``.cache/bench/demo-<n>``, generated with ``salesaudit demo-data --leads n`` when missing."""
    out = ROOT / ".cache" / "bench" / f"demo-{n}"
    if not (out / "leads.csv").exists():
        print(f"generating {n:,} leads into {out} …", flush=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
        cmd = [
            sys.executable,
            "-m",
            "salesaudit",
            "demo-data",
            "--out",
            str(out),
            "--leads",
            str(n),
            "--seed",
            str(seed),
        ]
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return out


def growth_law(sizes: list[int], values: list[float]) -> tuple[float, float]:
    """Least-squares ``a, b`` of ``value ≈ a + b × leads`` (needs two sizes)."""
    b, a = np.polyfit(np.asarray(sizes, float), np.asarray(values, float), 1)
    return float(a), float(b)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000, 5_000_000])
    ap.add_argument("--no-pdf", action="store_true", help="pass --no-pdf to the report")
    ap.add_argument("--against", default=None, help="another checkout benchmarked the same way (ratios)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    extra = ["--no-pdf"] if args.no_pdf else []
    results = []
    for n in args.sizes:
        data = demo_folder(n)
        print(f"\n=== {n:,} leads ({os.cpu_count()} cores) ===", flush=True)
        cold, warm = bench(data, "latest", extra, 1)
        base = bench(data, "latest", extra, 1, Path(args.against).resolve()) if args.against else None
        print_table(cold, warm, base)
        results.append({"leads": n, "cold": cold, "warm": warm, **({"against": base} if base else {})})
    print(f"\n{'leads':>10}{'cold s':>10}{'warm s':>10}{'cold GB':>10}{'warm GB':>10}")
    for r in results:
        print(
            f"{r['leads']:>10,}{r['cold']['wall']:>10.1f}{r['warm']['wall']:>10.1f}"
            f"{r['cold']['peak_bytes'] / 1e9:>10.2f}{r['warm']['peak_bytes'] / 1e9:>10.2f}"
        )
    if len(results) >= 2:
        sizes = [r["leads"] for r in results]
        for label, key, scale, unit in (("wall", "wall", 1.0, "s"), ("peak", "peak_bytes", 1e9, "GB")):
            for kind in ("cold", "warm"):
                a, b = growth_law(sizes, [r[kind][key] / scale for r in results])
                print(f"growth law, {kind} {label}: {a:.2f} {unit} + {b * 1e6:.2f} {unit} per million leads")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
