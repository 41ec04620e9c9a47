"""The benchmark runner and the landed-cost benchmark run end to end at a tiny size.

No timing is asserted: these only check that ``make bench`` will work and print its figures.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is beside the package, not installed with it
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as runner  # noqa: E402
from benchmarks import bench_landed_cost  # noqa: E402


def test_runner_discovers_the_landed_cost_benchmark() -> None:
    assert "landed_cost" in runner.discover()


def test_landed_cost_benchmark_runs_small() -> None:
    lines = bench_landed_cost.run(n=200, per_row=2, lo_rows=0, repeat=1, one_line=2)
    text = "\n".join(lines)
    assert "lines/s" in text
    assert "per-row results equal the vectorised ones" in text
    assert "XLP_PRICE_FOR_MARGIN" in text and "XLP_IMPORT_TAXES" in text
    targets = runner.parse_targets("landed_cost", lines)
    assert [t.op for t in targets] == [">=", ">=", "<"]
    assert [t.target for t in targets] == [500_000, 50, 5]


def test_make_lines_hands_over_raw_cells() -> None:
    lines = bench_landed_cost.make_lines(50)
    assert len(lines) == 50
    assert lines["unit_cost"].dtype == float
    assert lines["market"].dtype == object
    assert all(isinstance(v, str) for v in lines["cost_currency"])
    assert lines["vat_rate"].isna().all()
    assert lines["sku"].is_unique


def test_parse_targets_reads_both_directions() -> None:
    found = runner.parse_targets(
        "x",
        [
            "landed_cost 1,000,000 lines: 0.84 s = 1,190,000 lines/s (target >= 500,000) OK",
            "  time            2.000 s (best of 3; target < 1 s)",
            "  no target here (ok)",
        ],
    )
    assert [(t.figure, t.op, t.target) for t in found] == [
        (1_190_000, ">=", 500_000),
        (2.0, "<", 1.0),
    ]
    assert found[0].met and found[0].ratio == pytest.approx(2.38)
    assert not found[1].met and found[1].ratio == pytest.approx(0.5)


def test_runner_reports_a_failing_benchmark_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom() -> list[str]:
        raise ValueError("broken on purpose")

    def fine() -> list[str]:
        return ["fine: 3.0x (target >= 2x)"]

    for name, func in (("bench_zz_boom", boom), ("bench_zz_fine", fine)):
        module = types.ModuleType(f"benchmarks.{name}")
        module.run = func  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"benchmarks.{name}", module)
    monkeypatch.setattr(runner, "discover", lambda: ["zz_boom", "zz_fine"])
    assert runner.main([]) == 1
    out = capsys.readouterr().out
    assert "broken on purpose" in out
    assert "fine: 3.0x" in out
    assert "OK" in out.split("summary")[-1]
    assert runner.main(["zz_fine"]) == 0
    assert runner.main(["nope"]) == 2


def test_file_to_file_benchmark_runs_small() -> None:
    """Whole commands as processes on a 300-line plan and CSV (no LibreOffice, no UDFs)."""
    from benchmarks import bench_files

    lines = bench_files.run(
        sizes=(300,), xlsx_sizes=(300,), lo_sizes=(), repeat=1, udfs=False, demo=False
    )
    text = "\n".join(lines)
    assert "xlplan --help" in text and "landed-cost xlsx -> xlsx" in text
    assert "csv -> csv" in text and "scaling, xlsx -> xlsx" in text
    targets = runner.parse_targets("files", lines)
    assert {t.label for t in targets} >= {"xlplan --help", "xlplan --version"}
    assert "inline strings" in text


def test_paired_runs_take_the_ratio_pair_by_pair() -> None:
    """A command and its yardstick run in turn; the figure is the median of the pairs'
    ratios, each pair's own CPU seconds divided."""
    import sys

    from benchmarks import bench_files

    busy = [sys.executable, "-c", "sum(range(3_000_000))"]
    idle = [sys.executable, "-c", "pass"]
    paired = bench_files.run_paired(busy, idle, 3)
    assert len(paired.ratios) == 3
    assert paired.ratio == sorted(paired.ratios)[1]
    assert paired.ratio > 1  # the busy one costs more CPU in every pair
    assert "median of 3 pairs" in paired.text()
    fixed = bench_files.Paired(paired.a, paired.b, [3.2, 2.9, 3.0])
    assert fixed.ratio == 3.0


def test_the_benchmark_plan_holds_its_text_as_excel_saves_it(tmp_path: Path) -> None:
    """The plan the file benchmark reads keeps its text in the shared-string table (as Excel
    and ``xlplan new`` write it), every cell the same as the inline-string variant's."""
    import zipfile

    import openpyxl

    from benchmarks import bench_files

    lines = bench_files.bench_lines(40)
    shared, inline = tmp_path / "shared.xlsx", tmp_path / "inline.xlsx"
    bench_files.write_plan(lines, shared)
    bench_files.write_plan(lines, inline, inline=True)
    with zipfile.ZipFile(shared) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"inlineStr" in z.read(n) for n in sheets)
    with zipfile.ZipFile(inline) as z:
        assert any(b"inlineStr" in z.read(n) for n in z.namelist())

    def cells(path: Path) -> list[tuple[object, ...]]:
        book = openpyxl.load_workbook(path, read_only=True)
        return [
            tuple(getattr(v, "text", v) for v in row)  # array formulas by their text
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
        ]

    assert cells(shared) == cells(inline)
