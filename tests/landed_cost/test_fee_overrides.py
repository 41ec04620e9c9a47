"""The workbook's Fee overrides table (tblFeeOverrides): its rows replace the shipped fee rows
of the same keys, `check` locates its bad cells, and a result names the row a fee came from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost.action import compute_lines, rules_from_tables
from xlplan.landed_cost.tables import FEE_OVERRIDES, LANDED_COST, LANDED_COST_RESULTS
from xlplan.reference import Rules
from xlplan.reference.fees import FeeTables

ON = date(2026, 6, 1)


def _rules(rows: list[dict[str, object]]) -> tuple[Rules, pd.DataFrame]:
    return rules_from_tables(ON, None, None, None, None, None, None, pd.DataFrame(rows))


def _fees(rules: Rules) -> FeeTables:
    assert rules.fees is not None
    return rules.fees


JEWELRY_10 = {
    "fee_table": "referral",
    "marketplace": "US",
    "item": "Jewelry",
    "rate": 0.10,
    "min_fee": 0.30,
    "currency": "USD",
    "effective_from": "2026-01-01",
    "source": "own contract",
    "uncertain": False,
}


def test_a_row_replaces_the_shipped_schedule_of_its_keys_only() -> None:
    rules, errors = _rules([JEWELRY_10])
    assert errors.empty
    ref = _fees(rules).referral
    us_jewelry = ref[(ref["marketplace"] == "US") & (ref["category"] == "Jewelry")]
    assert us_jewelry["rule"].tolist() == ["tblFeeOverrides:1"]
    assert us_jewelry["rate"].tolist() == [0.10]
    # Other categories and marketplaces keep their shipped rows.
    assert ((ref["marketplace"] == "US") & (ref["category"] == "Watches")).any()
    assert ((ref["marketplace"] == "CA") & (ref["category"] == "Jewelry")).sum() == 2


def test_a_row_not_yet_in_force_leaves_the_shipped_rows() -> None:
    rules, _ = _rules([{**JEWELRY_10, "effective_from": "2027-01-01"}])
    ref = _fees(rules).referral
    us_jewelry = ref[(ref["marketplace"] == "US") & (ref["category"] == "Jewelry")]
    assert us_jewelry["rate"].tolist() == [0.20, 0.05]


def test_rows_of_every_fee_table_map_onto_its_columns() -> None:
    rules, errors = _rules(
        [
            {"fee_table": "fulfilment", "marketplace": "US", "item": "large_standard",
             "weight_from": 0, "weight_to": 20, "weight_unit": "lb", "amount": 5.0,
             "currency": "USD"},
            {"fee_table": "storage", "marketplace": "US", "item": "standard", "amount": 1.0,
             "currency": "USD"},
            {"fee_table": "commissions", "marketplace": "US", "channel": "TikTok Shop",
             "rate": 0.08, "currency": "USD"},
            {"fee_table": "refund_admin", "marketplace": "US", "rate": 0.2, "cap": 4.0,
             "currency": "USD"},
            {"fee_table": "payments", "marketplace": "US", "channel": "Stripe",
             "item": "domestic_card_online", "rate": 0.025, "amount": 0.25, "currency": "USD"},
        ]
    )  # fmt: skip
    assert errors.empty, errors
    fees = _fees(rules)
    ls = fees.fulfilment[
        (fees.fulfilment["marketplace"] == "US")
        & (fees.fulfilment["size_tier"] == "large_standard")
    ]
    assert ls["fee"].tolist() == [5.0] and ls["rule"].tolist() == ["tblFeeOverrides:1"]
    st = fees.storage[
        (fees.storage["marketplace"] == "US") & (fees.storage["size_class"] == "standard")
    ]
    assert st[["month_from", "month_to", "rate"]].to_numpy().tolist() == [[1.0, 12.0, 1.0]]
    tt = fees.commissions[
        (fees.commissions["channel"] == "TikTok Shop")
        & (fees.commissions["marketplace"] == "US")
        & (fees.commissions["category"] == "*")
        & (fees.commissions["fee_type"] == "referral")
    ]
    assert tt["rate"].tolist() == [0.08]
    assert fees.refund_admin.set_index("marketplace").loc["US", "cap_per_line"] == 4.0
    pay = fees.payments[
        (fees.payments["processor"] == "Stripe") & (fees.payments["account_country"] == "US")
    ]
    base = pay[pay["component"] == "domestic_card_online"]
    assert base[["rate", "fixed_fee"]].to_numpy().tolist() == [[0.025, 0.25]]
    assert (pay["component"] == "international_card_addon").any()  # not replaced


def test_bad_rows_are_reported_and_left_out() -> None:
    rules, errors = _rules(
        [
            {"fee_table": "bogus", "marketplace": "US", "currency": "USD"},
            {"fee_table": "fulfilment", "marketplace": "US", "item": "large_standard",
             "amount": 5.0, "weight_unit": "stone", "currency": "USD"},
            {"fee_table": "referral", "marketplace": "US", "item": "Jewelry", "currency": "USD"},
            {**JEWELRY_10, "tier_mode": "sideways"},
            {**JEWELRY_10, "effective_to": "2025-01-01"},
        ]
    )  # fmt: skip
    assert sorted(zip(errors["row"], errors["column"], strict=True)) == [
        (0, "fee_table"),
        (1, "weight_unit"),
        (2, "rate"),
        (3, "tier_mode"),
        (4, "effective_to"),
    ]
    ref = _fees(rules).referral
    assert not ref["rule"].str.startswith("tblFeeOverrides").any()


def test_a_line_priced_with_an_override_row_names_it() -> None:
    rules, _ = _rules([JEWELRY_10])
    line = pd.DataFrame(
        [{"sku": "R1", "market": "US", "channel": "Amazon", "unit_cost": 40, "cost_currency": "USD",
          "price": 300, "category": "Jewelry"}]
    )  # fmt: skip
    out = compute_lines(line, rules).outputs
    assert out["referral_fee"].iloc[0] == pytest.approx(30.0)
    assert "tblFeeOverrides:1" in out["fee_rules"].iloc[0].split(";")


def _template_with_override(tmp_path: Path, cells: dict[str, object]) -> tuple[Path, int]:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    wb = openpyxl.load_workbook(src)
    ws = wb["Settings"]
    table = ws.tables[FEE_OVERRIDES.name]
    row = ws[table.ref][1][0].row
    for key, value in cells.items():
        ws.cell(row, FEE_OVERRIDES.keys.index(key) + 1).value = value
    lines = wb["Landed Cost"]
    first = lines[lines.tables[LANDED_COST.name].ref][1][0].row
    col = {k: i + 1 for i, k in enumerate(LANDED_COST.keys)}
    for key, value in {"category": "Jewelry", "price": 300, "referral_rate": None,
                       "referral_min": None}.items():  # fmt: skip
        lines.cell(first, col[key]).value = value
    wb.save(src)
    return src, row


def test_run_on_a_workbook_uses_and_names_the_override_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = _template_with_override(tmp_path, JEWELRY_10)
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "--action", "landed_cost", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Landed Cost Results"]
    rows = [[c.value for c in r] for r in ws[ws.tables[LANDED_COST_RESULTS.name].ref]]
    keys = LANDED_COST_RESULTS.keys
    first = dict(zip(keys, rows[1], strict=True))
    assert first["referral_fee"] == pytest.approx(30.0)
    assert "tblFeeOverrides:1" in str(first["fee_rules"])


def test_check_locates_bad_override_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, row = _template_with_override(
        tmp_path, {**JEWELRY_10, "fee_table": "referal", "rate": "ten percent"}
    )
    assert main(["check", str(src), "--lang", "en"]) == 1
    err = capsys.readouterr().err

    def at(key: str) -> str:
        return f"Settings!{get_column_letter(FEE_OVERRIDES.keys.index(key) + 1)}{row}"

    assert f"{at('fee_table')}: unknown fee table" in err
    assert f"{at('rate')}: Rate is not a number" in err
