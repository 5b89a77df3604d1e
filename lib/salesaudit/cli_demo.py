"""``python -m salesaudit demo-data --out data/demo --seed 7 [--leads N] [--end 2026-09-30]``."""

from __future__ import annotations

import argparse
import time

from salesaudit.config import DEMO_DIR


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=str(DEMO_DIR), help="output folder (default data/demo)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--leads", type=int, default=None, help="total leads over the whole period (default about 20,000 a year)"
    )
    p.add_argument("--leads-per-year", type=int, default=20000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--end", default="2026-09-30", help="last day of the data")


def run(args: argparse.Namespace) -> int:
    from salesaudit.data.demo import generate

    per_year = args.leads_per_year if args.leads is None else max(1, round(args.leads / args.years))
    t0 = time.perf_counter()
    truth = generate(args.out, seed=args.seed, leads_per_year=per_year, end=args.end, years=args.years)
    n = truth.get("n_leads", "?")
    print(f"demo company written to {args.out} ({n} leads, seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
    return 0
