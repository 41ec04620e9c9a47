"""Benchmark: flag 1,000,000 KPI values with their bilingual reasons.

Two inputs: realistic figures (each KPI's values spread around its thresholds, so reasons repeat
once rounded for display) and a worst case where every figure shows a different number (so one
reason string is built per row). Both with and without threshold overrides by market and
channel. A per-row loop over the scalar :func:`xlplan.kpi.flag_kpi` on a sample gives the ratio.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from xlplan.kpi.calc import flag_kpi, flag_kpis, load_catalog

N = 1_000_000
MARKETS = ["US", "DE", "JP", "MX", "BR", "UK", "FR", "ES"]
CHANNELS = ["amazon", "shopify", "tiktok", "mercadolibre"]


def make_values(n: int, *, distinct: bool, seed: int = 0) -> pd.DataFrame:
    """``n`` KPI figures spread across the catalog, markets, channels and 12 months."""
    rng = np.random.default_rng(seed)
    cat = load_catalog()
    k = rng.integers(0, len(cat), n)
    green = cat["green"].to_numpy(dtype=float)[k]
    red = cat["red"].to_numpy(dtype=float)[k]
    span = np.abs(green - red)
    value = np.minimum(green, red) + span * rng.uniform(-1.0, 2.0, n)
    if distinct:  # every figure shows a different number: the reasons cannot be shared
        value = 10_000.0 + np.arange(n, dtype=float) * 1.37
        keys = np.where(cat["unit"].to_numpy()[k] == "CNY", cat["key"].to_numpy()[k], "ltv")
    else:
        keys = cat["key"].to_numpy()[k]
    return pd.DataFrame(
        {
            "kpi": keys,
            "value": value,
            "market": np.asarray(MARKETS)[rng.integers(0, len(MARKETS), n)],
            "channel": np.asarray(CHANNELS)[rng.integers(0, len(CHANNELS), n)],
            "month": rng.integers(1, 13, n),
        }
    )


OVERRIDES = pd.DataFrame(
    {
        "kpi": ["inventory_turnover", "inventory_turnover", "return_rate", "roas", "ltv"],
        "market": ["", "JP", "JP", "US", "US"],
        "channel": ["amazon", "amazon", "", "tiktok", ""],
        "green": [8.0, 10.0, 0.03, 4.0, 1500.0],
        "red": [5.0, None, 0.06, None, 500.0],
    }
)


def best_of(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def run(n: int = N, per_row: int = 2_000, repeat: int = 3) -> list[str]:
    """Printable lines: seconds to flag ``n`` values (target < 1 s at 1,000,000), and the
    speed-up over a per-row loop of :func:`flag_kpi` measured on ``per_row`` rows."""
    lines = [f"kpi: flag {n:,} KPI values, reasons built in zh and en (best of {repeat})"]
    typical = make_values(n, distinct=False)
    cases = [
        ("typical figures, catalog thresholds", typical, None),
        ("typical figures, market/channel overrides", typical, OVERRIDES),
        ("every figure shows a distinct number", make_values(n, distinct=True), None),
    ]
    first = 0.0
    for label, values, overrides in cases:
        seconds = best_of(functools.partial(flag_kpis, values, overrides), repeat)
        first = first or seconds
        target = " (target < 1 s)" if n == N else ""
        lines.append(f"  {label}: {seconds:.3f} s{target}")
    sample = typical.head(per_row)
    t = time.perf_counter()
    for kpi, value, market, channel in sample[["kpi", "value", "market", "channel"]].itertuples(
        index=False, name=None
    ):
        flag_kpi(str(kpi), value, market=str(market), channel=str(channel))
    per_call = (time.perf_counter() - t) / max(len(sample), 1)
    lines.append(
        f"  per-row flag_kpi: {per_call * 1e3:.2f} ms a value, {per_call * n:,.0f} s for {n:,}"
        f" -> vectorised is {per_call * n / first:,.0f}x faster"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
