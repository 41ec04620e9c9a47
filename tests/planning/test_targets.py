"""Targets: alignment of the three maps, spreading, rounding. Figures worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.plan.dimensions import PlanMap
from xlplan.plan.settings import ReconcileMethod
from xlplan.planning.calc.targets import (
    MONTH_COLUMNS,
    AlignmentSettings,
    TargetLine,
    align_targets,
    find_overlaps,
    lines_frame,
    map_totals,
    phase_buckets,
    quarterly,
    reconcile,
    reforecast,
    round_largest_remainder,
    split_total,
    spread_equal,
    spread_weighted,
    validate_target_lines,
)

YI = 100_000_000  # 1 亿 CNY
REGIONS = {"MX": "LATAM", "BR": "LATAM", "US": "NA", "DE": "EU"}

COLUMNS = ["map", "owner", "market", "customer_type", "category", "amount"]


def table(rows: list[tuple[object, ...]], columns: list[str] = COLUMNS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


# DOMAIN.md section 1, step 1: each owner presents a target.
PROPOSALS = table(
    [
        ("business", "market ops", "LATAM", "", "", 3.0 * YI),
        ("customer", "customer success", "", "existing", "", 2.0 * YI),
        ("product", "product", "", "", "new_products", 4.0 * YI),
    ]
)

# DOMAIN.md section 1, worked result: 12 = LATAM 3 (existing 1.2 + new 1.8)
#   + existing-customer upsell 2.5 (of which new bundles 1.0) + new products and bundles 6.5.
AGREED = table(
    [
        ("business", "market ops", "LATAM", "existing", "", 1.2 * YI),
        ("business", "market ops", "LATAM", "new", "", 1.8 * YI),
        ("customer", "customer success", "", "existing", "new_bundles", 1.0 * YI),
        ("customer", "customer success", "", "existing", "", 1.5 * YI),
        ("product", "product", "", "", "new_products_bundles", 6.5 * YI),
    ]
)


def test_worked_alignment_sums_to_company_target() -> None:
    result = align_targets(AGREED, AlignmentSettings(company_target=12 * YI), REGIONS)

    assert result.map_totals["amount"].to_dict() == {
        "business": 3.0 * YI,
        "customer": 2.5 * YI,
        "product": 6.5 * YI,
    }
    assert result.gap == 0
    assert result.errors.empty
    buckets = result.buckets
    assert buckets["amount"].sum() == 12 * YI
    assert (buckets["map"] != "unallocated").all()
    customer = buckets[buckets["map"] == "customer"]
    assert customer.loc[customer["category"] == "new_bundles", "amount"].item() == 1.0 * YI
    # The buckets are disjoint: later claims carve out earlier ones they intersect.
    assert buckets["excludes"].tolist() == ["", "", "0", "0,2", "0,1,3"]


def test_worked_proposals_show_overlaps_and_gap() -> None:
    result = align_targets(PROPOSALS, AlignmentSettings(company_target=12 * YI), REGIONS)

    assert result.gap == 3 * YI  # 12 - (3 + 2 + 4)
    overlaps = result.overlaps
    assert overlaps[["map_a", "map_b", "amount_at_stake"]].to_numpy().tolist() == [
        ["business", "customer", 2.0 * YI],  # LATAM existing customers
        ["business", "product", 3.0 * YI],  # new products sold in LATAM
        ["customer", "product", 2.0 * YI],  # new products sold to existing customers
    ]
    first = overlaps.iloc[0]
    assert (first["market"], first["customer_type"]) == ("LATAM", "existing")
    # keep: the 3 亿 nobody claimed is an explicit unallocated bucket with a record.
    assert result.buckets["amount"].sum() == 12 * YI
    assert result.buckets["map"].iloc[-1] == "unallocated"
    assert result.buckets["amount"].iloc[-1] == 3 * YI
    assert result.errors["column"].tolist() == ["company_target"]


def test_pro_rata_scales_to_target_to_the_yuan() -> None:
    buckets, errors = reconcile(PROPOSALS, 12 * YI, "pro_rata", unit=1)

    # 3, 2, 4 x 12/9 = 4, 2.666..., 5.333...; the one missing yuan goes to the larger remainder.
    assert buckets["amount"].tolist() == [400_000_000, 266_666_667, 533_333_333]
    assert buckets["amount"].sum() == 12 * YI
    assert errors.empty


def test_priority_cuts_the_last_lines_and_says_so() -> None:
    lines = PROPOSALS.assign(priority=[2, 1, 3], adjustment=[0, 0.5 * YI, 0])
    # order: customer 2.5, business 3, product 4 -> 9.5; target 8 leaves 2.5 for product
    buckets, errors = reconcile(lines, 8 * YI, ReconcileMethod.PRIORITY)

    assert buckets[["map", "entered", "amount"]].to_numpy().tolist() == [
        ["customer", 2.5 * YI, 2.5 * YI],
        ["business", 3.0 * YI, 3.0 * YI],
        ["product", 4.0 * YI, 2.5 * YI],
    ]
    assert errors[["table", "row", "column"]].to_numpy().tolist() == [["target_lines", 2, "amount"]]
    assert "150,000,000" in errors["en"].item()


def test_priority_shortfall_is_unallocated() -> None:
    buckets, errors = reconcile(PROPOSALS, 10 * YI, "priority")
    assert buckets["amount"].tolist() == [3 * YI, 2 * YI, 4 * YI, 1 * YI]
    assert buckets["map"].iloc[-1] == "unallocated"
    assert len(errors) == 1


def test_pro_rata_of_nothing_is_a_record() -> None:
    lines = PROPOSALS.assign(amount=0.0)
    buckets, errors = reconcile(lines, 12 * YI, "pro_rata")
    assert buckets["amount"].sum() == 12 * YI
    # one record for the failed scaling, one for the gap left unallocated
    assert errors["column"].tolist() == ["company_target", "company_target"]


def test_validation_records() -> None:
    lines = table(
        [
            ("business", "a", "MX", "", "", 1.0),
            ("finance", "b", "XX", "old", "", None),
        ]
    )
    errors = validate_target_lines(lines, REGIONS)
    assert errors[["row", "column"]].to_numpy().tolist() == [
        [1, "map"],
        [1, "customer_type"],
        [1, "amount"],
        [1, "market"],
    ]
    assert errors["en"].iloc[-1] == "unknown market or region: XX"


def test_market_meets_its_region_but_not_its_neighbour() -> None:
    lines = table(
        [
            ("business", "a", "MX", "", "", 1.0),
            ("customer", "b", "LATAM", "", "", 1.0),
            ("product", "c", "BR", "", "", 1.0),
        ]
    )
    overlaps = find_overlaps(lines, REGIONS)
    assert overlaps[["line_a", "line_b", "market"]].to_numpy().tolist() == [
        [0, 1, "MX"],
        [1, 2, "BR"],
    ]


def test_target_line_model_builds_the_table() -> None:
    lines = lines_frame(
        [
            TargetLine(map=PlanMap.BUSINESS, market="MX", amount=5),
            TargetLine(map=PlanMap.PRODUCT, category="jackets", amount=7, adjustment=-2),
        ]
    )
    assert map_totals(lines)["amount"].tolist() == [5, 0, 5]
    assert validate_target_lines(lines).empty


# --------------------------------------------------------------------------------------------
# Spreading and rounding


def test_spread_equal_to_the_yuan() -> None:
    monthly, errors = spread_equal(pd.Series([1000.0, -100.0], index=["a", "b"]), unit=1)
    # 1000 / 12 = 83.33: four months get 84 (the first four, ties go to the earlier month)
    assert monthly.loc["a"].tolist() == [84] * 4 + [83] * 8
    # -100 / 12 = -8.33: floors of -9 leave 8 units missing, which go to the first eight months
    assert monthly.loc["b"].tolist() == [-8] * 8 + [-9] * 4
    assert monthly.sum(axis=1).tolist() == [1000, -100]
    assert errors.empty


def test_spread_weighted_by_last_year() -> None:
    last_year = pd.DataFrame([[1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]], columns=MONTH_COLUMNS)
    monthly, _ = spread_weighted(pd.Series([100.0]), last_year, unit=1)
    assert monthly.iloc[0, :3].tolist() == [25, 25, 50]
    assert monthly.iloc[0, 3:].sum() == 0


def test_all_zero_weights_are_a_record_not_a_crash() -> None:
    weights = np.array([[0.0] * 12, [1.0] * 12])
    monthly, errors = spread_weighted(pd.Series([120.0, 120.0]), weights, unit=1)
    assert monthly.iloc[0].isna().all()
    assert monthly.iloc[1].tolist() == [10] * 12
    assert errors[["row", "column"]].to_numpy().tolist() == [[0, "weights"]]
    assert errors["zh"].item() == "权重全为零，无法分摊"


def test_round_to_wan() -> None:
    out = round_largest_remainder(np.array([33_333.0, 33_333.0, 33_334.0]), unit=10_000)
    assert out.tolist() == [30_000, 30_000, 40_000]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # closed Jan-Mar stay; +90 over 9 open months = +10 each
        ("equal_increment", [10, 10, 10] + [20] * 9),
        # open months 90 -> 180: each doubles
        ("proportional", [10, 10, 10] + [20] * 9),
    ],
)
def test_reforecast(method: str, expected: list[float]) -> None:
    current = pd.DataFrame([[10.0] * 12], columns=MONTH_COLUMNS)
    monthly, errors = reforecast(current, pd.Series([210.0]), method, open_from=4, unit=1)
    assert monthly.iloc[0].tolist() == expected
    assert errors.empty


def test_reforecast_proportional_cuts_uneven_months() -> None:
    current = pd.DataFrame([[0.0] * 6 + [10, 20, 30, 40, 0, 0]], columns=MONTH_COLUMNS)
    monthly, _ = reforecast(current, pd.Series([50.0]), "proportional", open_from=7, unit=1)
    # 100 -> 50: halved
    assert monthly.iloc[0].tolist() == [0] * 6 + [5, 10, 15, 20, 0, 0]


def test_reforecast_proportional_over_zeros_is_a_record() -> None:
    current = pd.DataFrame([[0.0] * 12], columns=MONTH_COLUMNS)
    monthly, errors = reforecast(current, pd.Series([50.0]), "proportional")
    assert monthly.iloc[0].isna().all()
    assert errors["column"].tolist() == ["weights"]


def test_split_then_phase_with_unknown_market() -> None:
    buckets = pd.DataFrame({"market": ["MX", "US", "ZZ"], "channel": ["ml", "amazon", "x"]})
    amounts, _ = split_total(1000.0, pd.Series([1.0, 2.0, 0.0]), unit=1)
    assert amounts.tolist() == [333, 667, 0]
    profiles = pd.DataFrame([[1.0] * 12, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]], index=["MX", "US"])
    profiles.columns = MONTH_COLUMNS
    monthly, errors = phase_buckets(buckets.assign(amount=amounts.to_numpy()), profiles, unit=1)
    assert monthly.loc[0, MONTH_COLUMNS].sum() == 333
    assert monthly.loc[1, ["m11", "m12"]].tolist() == [334, 333]
    assert monthly.loc[2, MONTH_COLUMNS].isna().all()
    assert errors[["row", "column", "en"]].to_numpy().tolist() == [
        [2, "market", "unknown market: ZZ (no seasonality profile)"]
    ]
    assert quarterly(monthly.loc[[1]])["q4"].item() == 667


# --------------------------------------------------------------------------------------------
# Invariants

amounts = st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 2))
units = st.sampled_from([0.01, 1.0, 100.0, 10_000.0])


def _units(values: np.ndarray, unit: float) -> np.ndarray:
    return np.round(values / unit)


def _target_units(total: float, unit: float) -> float:
    x = round(total / unit, 9)
    return float(np.sign(x) * np.floor(abs(x) + 0.5))


@settings(max_examples=300, deadline=None)
@given(
    totals=st.lists(amounts, min_size=1, max_size=8),
    weights=st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0, 1e-3]), min_size=12, max_size=12),
    unit=units,
)
def test_rows_always_sum_to_totals_in_units(
    totals: list[float], weights: list[float], unit: float
) -> None:
    t = pd.Series(totals)
    monthly, errors = spread_weighted(t, weights, unit=unit)
    if sum(weights) == 0:
        assert monthly.isna().all().all()
        assert len(errors) == len(totals)
        return
    values = monthly.to_numpy()
    assert np.allclose(values / unit, _units(values, unit), atol=1e-6)
    got = _units(values, unit).sum(axis=1)
    assert got.tolist() == [_target_units(x, unit) for x in totals]
    assert errors.empty


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(amounts, min_size=12, max_size=12), min_size=1, max_size=5),
    delta=amounts,
    unit=units,
    open_from=st.integers(1, 12),
    method=st.sampled_from(["equal_increment", "proportional"]),
)
def test_reforecast_keeps_closed_months_and_hits_new_total(
    rows: list[list[float]], delta: float, unit: float, open_from: int, method: str
) -> None:
    current = pd.DataFrame(
        round_largest_remainder(np.array(rows), unit=unit), columns=MONTH_COLUMNS
    )
    new_totals = current.sum(axis=1) + round(delta / unit) * unit
    monthly, errors = reforecast(current, new_totals, method, open_from=open_from, unit=unit)
    closed = MONTH_COLUMNS[: open_from - 1]
    assert monthly[closed].equals(current[closed])
    ok = monthly.notna().all(axis=1).to_numpy()
    assert len(errors) == (~ok).sum()
    got = _units(monthly.to_numpy()[ok], unit).sum(axis=1)
    want = [_target_units(x, unit) for x in new_totals[ok]]
    assert got.tolist() == want


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["business", "customer", "product"]), amounts),
        min_size=1,
        max_size=10,
    ),
    target=amounts,
    method=st.sampled_from(list(ReconcileMethod)),
)
def test_reconciled_buckets_sum_to_company_target(
    lines: list[tuple[str, float]], target: float, method: ReconcileMethod
) -> None:
    frame = pd.DataFrame(lines, columns=["map", "amount"])
    buckets, _ = reconcile(frame, target, method, unit=1)
    assert buckets["amount"].sum() == _target_units(target, 1)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(amounts, min_size=1, max_size=12), min_size=1, max_size=6).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    ),
    totals=st.lists(amounts, min_size=6, max_size=6),
    unit=units,
)
def test_rounding_hits_any_total_exactly(
    rows: list[list[float]], totals: list[float], unit: float
) -> None:
    # Even when a row does not add up to its total (a manual override), the units do.
    values = np.array(rows)
    t = np.array(totals[: len(rows)])
    out = round_largest_remainder(values, t, unit)
    assert np.allclose(out / unit, _units(out, unit), atol=1e-6)
    assert _units(out, unit).sum(axis=1).tolist() == [_target_units(x, unit) for x in t]


def test_align_with_priority_settings() -> None:
    settings_ = AlignmentSettings(company_target=8 * YI, method="priority", unit=10_000)
    result = align_targets(PROPOSALS, settings_, REGIONS)
    assert result.buckets["amount"].tolist() == [3 * YI, 2 * YI, 3 * YI]
    assert result.gap == -1 * YI
    assert result.errors["row"].tolist() == [2]
