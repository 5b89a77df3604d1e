"""Benchmark the what-if slider of notebook 07: the compute step run on every slider move.

Usage: ``python bench/bench_planning.py --data data/demo [--quarter 2026Q3] [--moves 50] [--draws 2000]``
(``make bench-planning``). Prints the time to fit the model once, then the per-move time of
:func:`salesaudit.steps.planning.metrics.recompute` (Monte Carlo + table + capacity check) and, separately, of
redrawing the chart. The budget is 100 ms per move for the compute step.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

BUDGET_MS = 100.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--quarter", default="latest")
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    from salesaudit.report import nb
    from salesaudit.steps.planning import metrics, view

    t0 = time.perf_counter()
    ctx = nb.setup(args.quarter, args.data)
    t_load = time.perf_counter() - t0
    if not ctx.has("spend"):
        print(f"{args.data}: no spend table — nothing to plan")
        return 2
    t0 = time.perf_counter()
    model = metrics.build_model(ctx.data, ctx.quarter, draws=args.draws)
    t_build = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    base = model.current_spend.to_dict()
    metrics.recompute(model, base)  # warm-up
    compute, draw = [], []
    for _ in range(args.moves):
        ch = model.paid[rng.integers(len(model.paid))]  # one slider moves
        spend = dict(base, **{ch: base[ch] * rng.uniform(0.3, 2.5)})
        t0 = time.perf_counter()
        table, _cap = metrics.recompute(model, spend, n_reps=model.n_reps)
        compute.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        fig = view.fig_plan(table, model.paid, model.roi_target)  # the slider's chart
        fig.canvas.draw()
        draw.append((time.perf_counter() - t0) * 1000)

    c, d = np.array(compute), np.array(draw)
    print(
        f"data {ctx.data.data_dir} ({len(ctx.data.leads):,} leads), plan for {ctx.quarter.next().label}: "
        f"{len(model.channels)} channels × {model.n_draws:,} Monte Carlo draws"
    )
    print(f"load {t_load * 1000:,.0f} ms; fit model once {t_build * 1000:,.0f} ms")
    print(
        f"slider compute step (metrics.recompute), {args.moves} moves: median {np.median(c):.1f} ms, "
        f"p95 {np.percentile(c, 95):.1f} ms, max {c.max():.1f} ms (budget {BUDGET_MS:.0f} ms)"
    )
    print(f"chart redraw (not part of the compute step): median {np.median(d):.1f} ms, max {d.max():.1f} ms")
    ok = np.median(c) <= BUDGET_MS
    print("OK" if ok else "TOO SLOW")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
