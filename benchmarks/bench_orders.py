"""Benchmark: 1,000,000 Shopify export lines to customer tiers.

Generates a Shopify-orders-export-shaped CSV (one row per line item, order fields on the first
row of each order only, 1-6 lines per order, 100,000 customers, four currencies) with vectorised
numpy/pyarrow code in a temporary folder, then times, in a fresh Python process so the peak
memory belongs to the work alone: :func:`xlplan.orders.read_shopify_orders`, FX conversion and
:func:`xlplan.maps.customer.build_customers`, tiering, what the data covers and the tier summary
(which tiers the customers again as of the window's start to measure retention). Peak memory is the
child's peak resident set size (``VmHWM``), which includes Arrow's allocator; the baseline
after imports is reported too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

N_LINES = 1_000_000
N_CUSTOMERS = 100_000
TARGET_SECONDS = 10.0
AS_OF = "2025-12-31"
PRODUCTS = np.array(["Blue Widget", "Red Gadget", "Deluxe Bundle", "Refill Pack", "Starter Kit"])
PRICES = np.array([29.5, 19.0, 89.0, 12.5, 49.0])
CURRENCIES = np.array(["USD", "EUR", "GBP", "CAD"])
COUNTRIES = np.array(["US", "DE", "GB", "CA"])
FX = {
    "from_currency": ["EUR", "GBP", "CAD"],
    "to_currency": ["USD"] * 3,
    "rate": [1.08, 1.27, 0.73],
}


def write_export(path: Path, n_lines: int = N_LINES, seed: int = 1) -> int:
    """Write a Shopify-export-shaped CSV with ``n_lines`` line rows; return the order count."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, n_lines)  # lines per order, mean 3.5
    ends = np.cumsum(sizes)
    sizes = sizes[: np.searchsorted(ends, n_lines) + 1]
    sizes[-1] -= int(sizes.sum() - n_lines)
    sizes = sizes[sizes > 0]
    n_orders = len(sizes)
    order_of_line = np.repeat(np.arange(n_orders), sizes)
    first = np.zeros(n_lines, dtype=bool)
    first[np.concatenate([[0], np.cumsum(sizes)[:-1]])] = True

    product = rng.integers(0, len(PRODUCTS), n_lines)
    qty = rng.integers(1, 4, n_lines)
    line_value = PRICES[product] * qty
    total = np.bincount(order_of_line, weights=line_value) * 1.1  # tax and shipping
    refunded = np.where(rng.random(n_orders) < 0.05, np.round(total * 0.5, 2), 0.0)
    customer = rng.integers(0, N_CUSTOMERS, n_orders)  # ~2.9 orders per customer
    market = customer % len(CURRENCIES)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
    stamp = start + rng.integers(0, 3 * 365 * 86400, n_orders)

    def order_field(values: pa.Array) -> pa.Array:
        spread = pc.take(values, pa.array(order_of_line))
        return pc.if_else(pa.array(first), spread, "")

    created = pc.binary_join_element_wise(
        pc.strftime(pa.array(stamp.astype("datetime64[s]")), format="%Y-%m-%d %H:%M:%S"),
        " -0500",
        "",
    )
    email = pc.binary_join_element_wise(
        "customer", pc.cast(pa.array(customer), pa.string()), "@example.com", ""
    )
    table = pa.table(
        {
            "Name": pc.binary_join_element_wise(
                "#", pc.cast(pa.array(order_of_line + 1001), pa.string()), ""
            ),
            "Email": order_field(email),
            "Financial Status": order_field(
                pa.array(np.where(refunded > 0, "partially_refunded", "paid"))
            ),
            "Currency": order_field(pa.array(CURRENCIES[market])),
            "Total": order_field(pc.cast(pa.array(np.round(total, 2)), pa.string())),
            "Refunded Amount": order_field(pc.cast(pa.array(refunded), pa.string())),
            "Created at": order_field(created),
            "Lineitem quantity": pc.cast(pa.array(qty), pa.string()),
            "Lineitem name": pa.array(PRODUCTS[product]),
            "Lineitem price": pc.cast(pa.array(PRICES[product]), pa.string()),
            "Lineitem sku": pa.array(np.char.add("SKU-", product.astype(str))),
            "Shipping Country": order_field(pa.array(COUNTRIES[market])),
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return n_orders


def _peak_rss_kb() -> float:
    """Peak resident set size of this process [kB]: ``VmHWM``, which starts afresh at exec
    (``ru_maxrss`` would carry over the parent's peak from before the fork)."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return float(row.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(path: str) -> None:
    """Child process: time the pipeline and print a JSON line."""
    import pandas as pd

    from xlplan.maps.calc.customer import (
        TierMode,
        TierSettings,
        build_customers,
        convert_amounts,
        describe_coverage,
        summarise_tiers,
        tier_customers,
    )
    from xlplan.orders import read_shopify_orders

    base_kb = _peak_rss_kb()
    s = TierSettings(mode=TierMode.B2C)
    as_of = pd.Timestamp(AS_OF)
    t0 = time.perf_counter()
    lines = read_shopify_orders(path)
    t1 = time.perf_counter()
    converted, _ = convert_amounts(lines, pd.DataFrame(FX), "USD")
    customers = build_customers(converted, as_of=as_of, settings=s)
    t2 = time.perf_counter()
    tiered = tier_customers(customers, s)
    coverage = describe_coverage(converted, as_of=as_of, settings=s)
    tiers = summarise_tiers(
        converted, tiered, as_of=as_of, settings=s, months_covered=coverage.months_covered
    )
    t3 = time.perf_counter()
    peak_kb = _peak_rss_kb()
    print(
        json.dumps(
            {
                "read": t1 - t0,
                "customers": t2 - t1,
                "tiers": t3 - t2,
                "lines": len(lines),
                "orders": int(lines["order_id"].nunique()),
                "customers_n": len(customers),
                "tiers_n": int((tiers["customers"] > 0).sum()),
                "base_mb": base_kb / 1024,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders_export.csv"
        t = time.perf_counter()
        n_orders = write_export(path)
        gen = time.perf_counter() - t
        size_mb = path.stat().st_size / 1e6
        code = f"from benchmarks.bench_orders import measure; measure({str(path)!r})"
        root = Path(__file__).resolve().parent.parent
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
    total = r["read"] + r["customers"] + r["tiers"]
    return [
        f"orders: generated {N_LINES:,} Shopify export lines ({n_orders:,} orders, "
        f"{size_mb:.0f} MB) in {gen:.1f} s",
        f"read_shopify_orders: {r['read']:.2f} s",
        f"convert + build_customers ({r['customers_n']:,} customers): {r['customers']:.2f} s",
        f"tier_customers + describe_coverage + summarise_tiers: {r['tiers']:.2f} s",
        f"1,000,000 lines to customer tiers: {total:.2f} s (target <= {TARGET_SECONDS:.0f} s)",
        f"peak memory (child VmHWM): {r['peak_mb']:.0f} MB, of which {r['base_mb']:.0f} MB after "
        f"imports",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
