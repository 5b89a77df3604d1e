"""Benchmark the quarterly report: wall time per phase and peak memory, from a cold and a warm cache.

    python bench/bench_report.py --data data/demo            # `make bench-report`
    python -m salesaudit demo-data --out /tmp/demo1m --leads 1000000
    python bench/bench_report.py --data /tmp/demo1m           # the 1,000,000-lead company

Each run is ``python -m salesaudit report`` in a subprocess, with its own loader cache (so "cold" really
parses the CSV and computes the previous quarter for the comparison) and its own reports folder, both
temporary. "warm" repeats the build with the same cache: validated Parquet and the previous quarter's
figures are reused. Peak memory is the largest sum of the resident memory of the report process and
all its kernels, sampled every 0.1 s. Targets (2 cores): demo ≤ 30 s warm; 1M leads ≤ 3 min warm and
≤ 4 GB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("validate", "execute", "compare", "summary", "html", "pdf")


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def run_once(data: str, quarter: str, cache: Path, reports: Path, extra: list[str], root: Path = ROOT) -> dict:
    """One report build in a subprocess with the code of checkout ``root``: wall time, phase timings, peak
    memory of the process tree."""
    timings = reports / ".timings.json"
    reports.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "salesaudit",
        "report",
        "--data",
        data,
        "--quarter",
        quarter,
        "--reports",
        str(reports),
        "--quiet",
        "--timings-json",
        str(timings),
        *extra,
    ]
    env = dict(os.environ, SALESAUDIT_CACHE=str(cache), PYTHONPATH=str(root / "lib"))
    load = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, tree_rss(ps))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"report failed (exit {proc.returncode}):\n{err[-3000:]}")
    got = json.loads(timings.read_text())[0] if timings.exists() else {}
    return {
        "wall": wall,
        "cpu": cpu,
        "load_before": load,
        "peak_bytes": peak,
        "phases": got.get("timings", {}),
        "notebooks": got.get("notebooks", {}),
    }


def bench(
    data: Path, quarter: str, extra: list[str], warm_runs: int, root: Path = ROOT, fresh: bool = False
) -> tuple[dict, dict] | tuple[dict, dict, dict]:
    """A cold build (empty cache) and ``warm_runs`` warm ones (same cache) with checkout ``root``'s code;
    returns (cold, best warm), and with ``fresh`` also a warm build with ``--no-reuse`` (the validated data and the
    previous quarter's figures reused, every notebook executed and every PDF page laid out)."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        tmp = Path(tmp)
        cache, reports = tmp / "cache", tmp / "reports"
        cold = run_once(str(data.resolve()), quarter, cache, reports, extra, root)
        print(f"  cold: {cold['wall']:.1f} s", flush=True)
        warms = []
        for i in range(warm_runs):
            warms.append(run_once(str(data.resolve()), quarter, cache, reports, extra, root))
            print(f"  warm {i + 1}: {warms[-1]['wall']:.1f} s", flush=True)
        best = min(warms, key=lambda r: r["wall"]) if warms else cold
        if not fresh:
            return cold, best
        again = run_once(str(data.resolve()), quarter, cache, reports, [*extra, "--no-reuse"], root)
        print(f"  warm, --no-reuse: {again['wall']:.1f} s", flush=True)
    return cold, best, again


def print_table(cold: dict, warm: dict, base: tuple[dict, dict] | None = None) -> None:
    """Per-phase seconds, wall, CPU, peak memory; with ``base`` (the other checkout's cold, warm) the ratios."""
    head = f"{'phase':<10}{'cold s':>10}{'warm s':>10}"
    if base:
        head += f"{'cold ×':>10}{'warm ×':>10}   (× = this ÷ the other checkout)"
    print(head)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:>10.2f}" if b else f"{'–':>10}"

    rows = [(p, cold["phases"].get(p, 0.0), warm["phases"].get(p, 0.0), p) for p in PHASES]
    for name, c, w, key in rows:
        if not (c or w):
            continue
        line = f"{name:<10}{c:>10.1f}{w:>10.1f}"
        if base:
            line += ratio(c, base[0]["phases"].get(key, 0.0)) + ratio(w, base[1]["phases"].get(key, 0.0))
        print(line)
    for label, key, scale, note in (
        ("wall", "wall", 1, "(incl. interpreter start-up)"),
        ("cpu s", "cpu", 1, "(report process + kernels, all cores)"),
        ("peak GB", "peak_bytes", 1e9, "(report process + kernels)"),
    ):
        line = f"{label:<10}{cold[key] / scale:>10.2f}{warm[key] / scale:>10.2f}"
        if base:
            line += ratio(cold[key], base[0][key]) + ratio(warm[key], base[1][key])
        print(f"{line}   {note}")
    print(f"{'load avg':<10}{cold['load_before']:>10.1f}{warm['load_before']:>10.1f}   (1-min load when it started)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--quarter", default="latest")
    ap.add_argument("--warm-runs", type=int, default=1, help="warm builds after the cold one (best is shown)")
    ap.add_argument("--no-compare", action="store_true", help="pass --no-compare to the report")
    ap.add_argument("--no-pdf", action="store_true", help="pass --no-pdf to the report")
    ap.add_argument(
        "--against",
        default=None,
        help="another checkout (e.g. the previous main: git worktree add /tmp/prev main~1) benchmarked the same "
        "way right after; prints this ÷ that",
    )
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / "leads.csv").exists() and not (data / "leads.parquet").exists():
        raise SystemExit(f"{data}: no leads table (make demo-data, or demo-data --out DIR --leads N)")
    extra = (["--no-compare"] if args.no_compare else []) + (["--no-pdf"] if args.no_pdf else [])
    print(f"benchmark: report on {data} ({os.cpu_count()} cores)", flush=True)
    cold, warm, fresh = bench(data, args.quarter, extra, args.warm_runs, fresh=True)
    base = None
    if args.against:
        other = Path(args.against).resolve()
        if not (other / "lib" / "salesaudit").is_dir():
            raise SystemExit(f"{other}: not a checkout of this repository (no lib/salesaudit)")
        print(f"the other checkout: {other}", flush=True)
        base = bench(data, args.quarter, extra, args.warm_runs, other)
    print()
    print_table(cold, warm, base)
    print(
        "\nwarm = the same cache: validated data, previous quarter, executed notebooks and PDF pages whose inputs are"
        " unchanged are reused.\nwarm, --no-reuse (every notebook executed, every page laid out; data reused):"
    )
    print("  " + " · ".join(f"{p} {fresh['phases'][p]:.1f} s" for p in PHASES if fresh["phases"].get(p)))
    print(f"  wall {fresh['wall']:.1f} s · cpu {fresh['cpu']:.1f} s · peak {fresh['peak_bytes'] / 1e9:.2f} GB")
    print("\nnotebooks, warm (wall incl. kernel start-up):")
    for name, sec in sorted(warm["notebooks"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28}{sec:>6.1f} s")
    if args.json:
        out = {"data": str(data), "cold": cold, "warm": warm, "warm_no_reuse": fresh}
        if base:
            out["against"] = {"checkout": str(args.against), "cold": base[0], "warm": base[1]}
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
