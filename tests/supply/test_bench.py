"""The stock and cash benchmark runs end to end at a tiny size (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is beside the package, not installed with it
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as runner  # noqa: E402
from benchmarks import bench_supply  # noqa: E402


def test_the_supply_benchmark_runs_small() -> None:
    assert "supply" in runner.discover()
    lines = bench_supply.run(n=200, repeat=1)
    text = "\n".join(lines)
    assert "200 SKU x route lines" in text and "purchase orders" in text
    assert "CPU" in text and "levers" in text
    # at full size the line states its target, and the runner reads the CPU figure
    (target,) = runner.parse_targets(
        "supply",
        ["  targets to units, stock plan and its tables: wall 0.8 s, CPU 0.3 s (target < 1 s)"],
    )
    assert target.figure == 0.3 and target.met


def test_the_benchmark_inputs_look_like_a_workbooks() -> None:
    tables = bench_supply.make_tables(100)
    assert len(tables["supply_routes"]) == 100
    assert tables["supply_routes"]["sku"].is_unique is False  # one SKU in many markets
    assert set(tables["supply_routes"]["mode"]) <= {"sea", "rail", "air"}
