"""``xlplan new`` (issue 11): a brand-new plan is empty — no sample lines, no 12亿 target, no
actuals reporting 76.5% attainment — with the Settings at their defaults; ``--example`` gives
the worked example, ready to run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xlplan import actions
from xlplan.app.cli import main
from xlplan.workbook.io import FilePort

INPUTS = [t.key for t in actions.CATALOG.input_tables()]
REFERENCE = {"fx", "events", "kpi_thresholds", "tier_assumptions"}  # shipped rule tables stay


def _rows(path: Path) -> dict[str, int]:
    port = FilePort(path, actions.CATALOG)
    out = {}
    for key in INPUTS:
        frame = port.read_table(key)
        if frame is not None:
            out[key] = len(frame.dropna(how="all"))
    return out


def test_a_new_plan_is_empty_and_runs_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plan.xlsx"
    assert main(["new", "--lang", "en", "--year", "2027", "-o", str(target)]) == 0
    assert "empty input tables" in capsys.readouterr().out
    rows = _rows(target)
    settings_like = {k for k in rows if k.endswith("settings") or k in REFERENCE}
    filled = {k: n for k, n in rows.items() if n and k not in settings_like}
    assert filled == {}
    port = FilePort(target, actions.CATALOG)
    ctx, _ = actions.context(port, date(2026, 12, 1))
    assert ctx.settings.plan_year == 2027 and ctx.settings.company_target is None
    assert main(["check", str(target)]) == 0
    out = tmp_path / "out.xlsx"
    assert main(["run", str(target), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tracking: no actuals yet" in printed
    assert "nan" not in printed and "300,000,000" not in printed


def test_example_gives_the_worked_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plan.xlsx"
    assert main(["new", "--example", "--lang", "zh", "-o", str(target)]) == 0
    assert "示例" in capsys.readouterr().out
    rows = _rows(target)
    assert rows["landed_cost"] > 0 and rows["target_lines"] > 0 and rows["actuals"] > 0
    assert rows["product_sales"] > 0 and rows["business_markets"] > 0
