"""Run the benchmarks: ``python -m benchmarks [NAME ...]`` (``make bench``).

Every module ``benchmarks/bench_<name>.py`` with a ``run() -> list[str]`` is a benchmark; they run
in name order, or only the ones named on the command line (``landed_cost`` or
``bench_landed_cost``). Each prints a header and its lines. A benchmark that raises prints its
error and the others still run; the exit status is then 1.

The closing summary collects every line that states a target, in the form
``<label>: ... <figure> [unit] (... target >= <figure> [unit]) ...`` (``>=``, ``>``, ``<=`` or
``<``; the figure is the last number before the parenthesis). ``ratio`` is figure / target for
``>=`` targets and target / figure for ``<=`` ones, so ``ratio >= 1`` always means the target
is met.
"""

from __future__ import annotations

import importlib
import re
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
PREFIX = "bench_"

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
_TARGET = re.compile(
    rf"(?P<figure>{_NUMBER})\s*(?P<unit>[^\s(]*)\s*\([^()]*?target\s*(?P<op>>=|<=|>|<)\s*"
    rf"(?P<target>{_NUMBER})"
)


@dataclass(frozen=True)
class TargetLine:
    """One line of a benchmark's output that states a figure and its target."""

    benchmark: str
    label: str
    figure: float
    unit: str
    op: str
    target: float

    @property
    def ratio(self) -> float:
        """Above 1 when the target is met, whichever way the target points."""
        if self.op in (">=", ">"):
            return self.figure / self.target if self.target else float("inf")
        return self.target / self.figure if self.figure else float("inf")

    @property
    def met(self) -> bool:
        return {
            ">=": self.figure >= self.target,
            ">": self.figure > self.target,
            "<=": self.figure <= self.target,
            "<": self.figure < self.target,
        }[self.op]


def discover() -> list[str]:
    """The benchmark names (``bench_*.py`` stems without the prefix), sorted."""
    return sorted(p.stem[len(PREFIX) :] for p in PACKAGE_DIR.glob(f"{PREFIX}*.py"))


def parse_targets(benchmark: str, lines: Sequence[str]) -> list[TargetLine]:
    """The lines of ``lines`` that state a figure against a target."""
    found = []
    for line in lines:
        matches = list(_TARGET.finditer(line))
        if not matches:
            continue
        m = matches[-1]
        head = line[: m.start()].strip()
        label = head.split(":", 1)[0].strip() if ":" in head else head or benchmark
        found.append(
            TargetLine(
                benchmark=benchmark,
                label=" ".join(label.split())[:48],
                figure=float(m["figure"].replace(",", "")),
                unit=m["unit"],
                op=m["op"],
                target=float(m["target"].replace(",", "")),
            )
        )
    return found


def run_one(name: str) -> tuple[list[str], str | None]:
    """Import ``benchmarks.bench_<name>`` and call its ``run()``: (lines, error or None)."""
    try:
        module = importlib.import_module(f"{__package__ or 'benchmarks'}.{PREFIX}{name}")
        lines = [str(line) for line in module.run()]
    except Exception:  # noqa: BLE001 - report and go on with the next benchmark
        return [], traceback.format_exc()
    return lines, None


def _number(value: float) -> str:
    """``1,190,000`` for big figures, ``0.84`` for small ones."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def summary(targets: Sequence[TargetLine]) -> list[str]:
    """A fixed-width table: benchmark, figure, target, ratio, met or not."""
    if not targets:
        return ["(no benchmark stated a target)"]
    rows = [
        (
            t.benchmark,
            t.label,
            f"{_number(t.figure)}{t.unit if t.unit == 'x' else ' ' + t.unit}".strip(),
            f"{t.op} {_number(t.target)}",
            f"{t.ratio:,.2f}",
            "OK" if t.met else "MISSED",
        )
        for t in targets
    ]
    head = ("benchmark", "figure", "value", "target", "ratio", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return [fmt(head), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    available = discover()
    wanted = [a[len(PREFIX) :] if a.startswith(PREFIX) else a for a in args] or available
    unknown = [w for w in wanted if w not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    failed: list[str] = []
    targets: list[TargetLine] = []
    for name in wanted:
        print(f"=== {name} ===", flush=True)
        start = time.perf_counter()
        lines, error = run_one(name)
        for line in lines:
            print(line)
        if error is not None:
            failed.append(name)
            print(f"FAILED: {name}\n{error}", end="")
        targets.extend(parse_targets(name, lines))
        print(f"--- {name}: {time.perf_counter() - start:.1f} s\n", flush=True)
    print("=== summary: figures against targets (ratio >= 1 means met) ===")
    for line in summary(targets):
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
