"""Rule scenarios: each override against hand-worked figures, the comparison tables, the
plan's weighted margin, validation, the Scenarios action through the command line, and the
invariant that a scenario without overrides is the base."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost.action import (
    compute_lines,
    rules_from_tables,
    scenario_rows,
    scenario_tables,
    selected_scenarios,
)
from xlplan.landed_cost.scenarios import BASE, scenario_rules
from xlplan.reference import Rules, default_fx, load_rules

DAY = date(2026, 3, 1)


def base_rules(day: date = DAY) -> Rules:
    return load_rules(day, fx=default_fx())


def rows_of(*rows: dict[str, object], rules: Rules | None = None) -> pd.DataFrame:
    typed, errors = scenario_rows(pd.DataFrame(list(rows)), rules or base_rules())
    assert errors.empty, errors["en"].tolist()
    return typed


def under(rows: pd.DataFrame, *lines: dict[str, object], rules: Rules | None = None) -> pd.Series:
    base = rules or base_rules()
    out = compute_lines(pd.DataFrame(list(lines)), scenario_rules(base, rows, base_rules))
    return out.outputs.iloc[0]


US_CN = dict(market="US", hs_code="85076000", unit_cost=20, price=60)


@pytest.mark.parametrize("rate", [0.10, 0.15])
def test_us_extra_duty_on_chinese_goods_10_vs_15_percent(rate: float) -> None:
    """All US extra duties of CN goods together at the scenario's rate, over the tariff's
    s.301 and s.122 (35% on 2026-03-01) and over a line's own extra rate."""
    rows = rows_of(dict(scenario="s", rule="extra_duty", market="US", origin="CN", value=rate))
    assert under(rows, US_CN)["extra_duty"] == pytest.approx(20 * rate)
    own = under(rows, {**US_CN, "extra_duty_rate": 0.5})
    assert own["extra_duty"] == pytest.approx(20 * rate)
    vn = under(rows, {**US_CN, "origin": "VN"})
    assert vn["extra_duty"] == pytest.approx(20 * 0.10)  # s.122 only, untouched


def test_extra_duty_of_one_measure_keeps_the_others() -> None:
    rows = rows_of(
        dict(scenario="s", rule="extra_duty", market="US", origin="CN", measure="us_s122",
             value="15%")
    )  # fmt: skip
    assert under(rows, US_CN)["extra_duty"] == pytest.approx(20 * (0.25 + 0.15))


def test_duty_rate_override() -> None:
    rows = rows_of(dict(scenario="s", rule="duty_rate", market="US", hs_prefix="8507", value=0.2))
    r = under(rows, {**US_CN, "duty_rate": 0.01})
    assert r["duty"] == pytest.approx(4.0)


def test_eu_eur_3_on_and_off() -> None:
    line = dict(market="DE", hs_code="85076000", units_per_parcel=1, unit_cost=40, price=90)
    after = base_rules(date(2026, 7, 1))
    off = rows_of(
        dict(scenario="off", rule="low_value", market="EU", measure="flat_per_subheading",
             value="FALSE"),
        rules=after,
    )  # fmt: skip
    assert under(off, line, rules=after)["duty"] == pytest.approx(40 * 0.027)  # normal duty
    before = base_rules(date(2026, 6, 1))
    on = rows_of(
        dict(scenario="on", rule="low_value", market="EU", measure="flat_per_subheading",
             value="TRUE"),
        rules=before,
    )  # fmt: skip
    assert under(on, line, rules=before)["duty"] == pytest.approx(3.0)  # EUR 3 a month early
    assert compute_lines(pd.DataFrame([line]), before).outputs["duty"].iloc[0] == 0.0


def test_fx_override() -> None:
    rows = rows_of(
        dict(scenario="s", rule="fx", from_currency="CNY", to_currency="USD", value=0.147)
    )
    r = under(rows, dict(market="US", unit_cost=100, cost_currency="CNY", price=60, origin="VN"))
    assert r["customs_value"] == pytest.approx(14.7)


def test_tax_rate_override_for_a_union() -> None:
    rows = rows_of(dict(scenario="s", rule="tax_rate", market="EU", value="25%"))
    r = under(rows, dict(market="FR", unit_cost=100, duty_rate=0, price=300))
    assert r["import_vat"] == pytest.approx(25.0)


def test_rules_date_override() -> None:
    rows = rows_of(dict(scenario="s", rule="rules_date", value="2025-04-20"))
    r = under(rows, dict(market="US", hs_code="85044095", unit_cost=10, price=40))
    assert r["extra_duty"] == pytest.approx(10 * (0.25 + 0.20 + 1.25))


def test_bad_scenario_rows_are_reported_and_left_out() -> None:
    raw = pd.DataFrame(
        [
            dict(scenario="a", rule="extra_duty", market="US", value="15%"),
            dict(scenario="a", rule="teleport", market="US", value="1"),
            dict(scenario="base", rule="fx", from_currency="CNY", to_currency="USD", value=1),
            dict(scenario="b", rule="duty_rate", value="5%"),
            dict(scenario="b", rule="low_value", market="EU", value="maybe"),
            dict(scenario="c", rule="rules_date", value="soon"),
            dict(scenario="c", rule="fx", from_currency="CNY", value="0.2"),
            dict(scenario="d", rule="tax_rate", market="XX", value="0.2"),
            dict(scenario="d", rule="extra_duty", market="US", value="-3"),
        ]
    )
    rows, errors = scenario_rows(raw, base_rules())
    assert errors[["row", "column"]].to_numpy().tolist() == [
        [1, "rule"],
        [2, "scenario"],
        [3, "market"],
        [4, "value"],
        [5, "value"],
        [6, "from_currency"],
        [7, "market"],
        [8, "value"],
    ]
    assert rows["scenario"].tolist() == ["a"]
    assert "base is the plan as it stands" in errors["en"].iloc[1]


def test_selection_names_scenarios_and_base_comes_first() -> None:
    rows = rows_of(
        dict(scenario="x", rule="tax_rate", market="DE", value="0.2"),
        dict(scenario="y", rule="tax_rate", market="DE", value="0.3"),
    )
    assert selected_scenarios(rows, None)[0] == [BASE, "x", "y"]
    names, errors = selected_scenarios(rows, pd.DataFrame({"scenario": ["y", "zz"]}))
    assert names == [BASE, "y"]
    assert errors["row"].tolist() == [1] and "no scenario 'zz'" in errors["en"].iloc[0]


def test_comparison_tables_and_the_weighted_margin() -> None:
    base = base_rules()
    lines = pd.DataFrame(
        [
            dict(sku="A", market="US", hs_code="85076000", unit_cost=20, price=60,
                 planned_units=100),
            dict(sku="B", market="DE", hs_code="85076000", unit_cost=20, price=60,
                 planned_units=300),
        ]
    )  # fmt: skip
    rows = rows_of(dict(scenario="up", rule="extra_duty", market="US", origin="CN", value=0.6))
    results, summary = scenario_tables(lines, base, rows, [BASE, "up"], base_rules, "USD")
    assert results["scenario"].tolist() == [BASE, BASE, "up", "up"]
    us_base, us_up = results.iloc[0], results.iloc[2]
    assert us_up["landed_cost_change"] == pytest.approx(
        us_up["landed_cost"] - us_base["landed_cost"]
    )
    assert us_up["landed_cost_change"] == pytest.approx(20 * (0.6 - 0.35), abs=0.01)
    assert results.iloc[3]["landed_cost_change"] == 0.0  # DE untouched
    out = compute_lines(lines, base).outputs
    fx = base.fx_rates(out["currency"], pd.Series("USD", index=out.index)).to_numpy()
    w = np.array([100, 300])
    expected = (w * out["contribution"] * fx).sum() / (w * out["net_price"] * fx).sum()
    assert summary.loc[0, "weighted_margin"] == pytest.approx(round(expected, 4))
    assert summary.loc[1, "margin_change"] < 0
    assert summary["lines_computed"].tolist() == [2, 2]
    assert "extra_duty US CN = 0.6" in summary.loc[1, "overrides"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "market": st.sampled_from(["US", "DE", "GB", "JP", "MX", "BR"]),
                "hs_code": st.sampled_from(["85076000", "85044095", "62061000", ""]),
                "origin": st.sampled_from(["CN", "VN", ""]),
                "units_per_parcel": st.one_of(st.none(), st.integers(1, 5)),
                "unit_cost": st.floats(1, 300),
                "cost_currency": st.just("CNY"),
                "price": st.floats(10, 3000),
                "target_margin": st.floats(-0.2, 0.3),
                "planned_units": st.integers(0, 1000),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_scenario_without_overrides_is_the_base(lines: list[dict[str, object]]) -> None:
    base = base_rules()
    frame = pd.DataFrame(lines)
    empty = rows_of()
    same = scenario_rules(base, empty, base_rules)
    pd.testing.assert_frame_equal(
        compute_lines(frame, base).outputs, compute_lines(frame, same).outputs
    )
    results, summary = scenario_tables(frame, base, empty, [BASE, BASE], base_rules, "CNY")
    halves = [results.iloc[: len(frame)], results.iloc[len(frame) :]]
    pd.testing.assert_frame_equal(
        halves[0].reset_index(drop=True), halves[1].reset_index(drop=True)
    )
    assert summary["margin_change"].fillna(0).tolist() == [0.0, 0.0]


# --- through the command line ------------------------------------------------------------------


def test_landed_cost_csv_with_scenarios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "lines.csv"
    pd.DataFrame(
        [dict(sku="PB", market="US", hs_code="8507.60.00", unit_cost=20, price=60)]
    ).to_csv(src, index=False)
    scen = tmp_path / "scenarios.csv"
    pd.DataFrame(
        [
            dict(scenario="US-CN 10%", rule="extra_duty", market="US", origin="CN", value="10%"),
            dict(scenario="US-CN 15%", rule="extra_duty", market="US", origin="CN", value="15%"),
        ]
    ).to_csv(scen, index=False)
    out = tmp_path / "out.csv"
    args = ["landed-cost", str(src), "-o", str(out), "--date", "2026-03-01"]
    code = main([*args, "--scenarios", str(scen), "--scenario", "US-CN 15%"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "scenario US-CN 15%: weighted margin" in printed
    compared = pd.read_csv(tmp_path / "out.scenarios.csv", encoding="utf-8-sig")
    assert compared["Scenario"].tolist() == ["base", "US-CN 15%"]
    assert compared["Extra duty"].tolist() == pytest.approx([7.00, 3.00])
    summary = pd.read_csv(tmp_path / "out.summary.csv", encoding="utf-8-sig")
    assert summary["Scenario"].tolist() == ["base", "US-CN 15%"]
    assert main([*args, "--force", "--scenarios", str(scen), "--scenario", "nope"]) == 1
    assert "no scenario 'nope'" in capsys.readouterr().err


def test_run_with_scenario_writes_the_comparison_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    out = tmp_path / "out.xlsx"
    code = main(
        ["run", str(src), "--action", "landed_cost", "--scenario", "US-CN 15%", "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Scenario Results"]
    assert {"tblScenarioSummary", "tblScenarioResults"} <= set(ws.tables)
    ref = ws.tables["tblScenarioSummary"].ref
    cells = [[c.value for c in row] for row in ws[ref]]
    assert [row[0] for row in cells[1:]] == ["base", "US-CN 15%"]


def test_check_reports_bad_scenario_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlplan.landed_cost import sheets

    src = tmp_path / "plan.xlsx"
    wb_bytes = templates.template_bytes("en")
    src.write_bytes(wb_bytes)
    wb = openpyxl.load_workbook(src)
    ws = wb["Scenarios"]
    table = ws.tables["tblScenarios"]
    first = ws[table.ref][1]
    keys = sheets.sample_scenarios().columns.tolist()
    first[keys.index("rule")].value = "teleport"
    wb.save(src)
    assert main(["check", str(src)]) == 1
    assert "Scenarios!B" in capsys.readouterr().err


def test_the_rules_of_the_same_tables_on_the_same_date_are_made_once() -> None:
    """The landed-cost and scenarios actions of a run read the very same settings frames: the
    second asks for the rules the first made. A new frame or another date makes them anew."""
    fx = pd.DataFrame({"from_currency": ["USD"], "to_currency": ["CNY"], "rate": [7.1]})
    on = date(2026, 6, 1)
    first = rules_from_tables(on, fx, None, None)
    assert rules_from_tables(on, fx, None, None) is first
    again = rules_from_tables(on, fx.copy(), None, None)
    assert again is not first
    pd.testing.assert_frame_equal(again[0].fx, first[0].fx)
    assert rules_from_tables(date(2026, 7, 1), fx, None, None)[0].on == date(2026, 7, 1)
