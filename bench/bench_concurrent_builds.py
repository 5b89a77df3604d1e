"""N consecutive report builds while a second build loop runs beside them: none may hang or collide.

    python bench/bench_concurrent_builds.py [--builds 20] [--data data/demo] [--timeout 900]

Both loops build the same quarter into the same reports folder (the publish lock serialises them). Each
build is a ``python -m salesaudit report`` process with a watchdog of ``--timeout`` seconds; the script
prints one line per build (seconds, exit code) and a summary: how many builds, the slowest, any hang
(watchdog fired), any failure, and whether stray ``.build-*`` folders were left. Exit code 1 when a
build hung, failed or left a folder behind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(data: str, reports: Path, timeout: float, pdf: bool) -> tuple[float, int | None, str]:
    cmd = [sys.executable, "-m", "salesaudit", "report", "--data", data, "--reports", str(reports), "--quiet"]
    if not pdf:
        cmd.append("--no-pdf")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, None, "watchdog: no result"
    last = (r.stderr.strip().splitlines() or [""])[-1] if r.returncode else ""
    return time.perf_counter() - t0, r.returncode, last


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", type=int, default=20)
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    reports = Path(tempfile.mkdtemp(prefix="concurrent-builds-"))
    stop = threading.Event()
    second: list[tuple[float, int | None, str]] = []

    def other_loop() -> None:
        while not stop.is_set():
            second.append(build(args.data, reports, args.timeout, not args.no_pdf))

    t = threading.Thread(target=other_loop, daemon=True)
    t.start()
    first = []
    for i in range(1, args.builds + 1):
        res = build(args.data, reports, args.timeout, not args.no_pdf)
        first.append(res)
        secs, code, last = res
        print(f"build {i:2d}: {secs:6.1f} s  exit {code}  {last}", flush=True)
    stop.set()
    t.join(timeout=args.timeout + 60)
    all_runs = first + second
    hung = [r for r in all_runs if r[1] is None]
    failed = [r for r in all_runs if r[1] not in (0, None)]
    left = sorted(p.name for p in reports.iterdir() if p.name.startswith(".build-"))
    secs = [r[0] for r in first]
    print(
        f"{len(first)} builds beside {len(second)} concurrent ones: median {statistics.median(secs):.1f} s, "
        f"slowest {max(secs):.1f} s; hung {len(hung)}, failed {len(failed)}; build folders left: {left or 'none'}"
    )
    return 1 if hung or failed or left else 0


if __name__ == "__main__":
    sys.exit(main())
