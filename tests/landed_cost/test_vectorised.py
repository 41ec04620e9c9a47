"""The whole-column calculation against the one-line one, with the fee tables and customs in.

The calculator looks fees up once per distinct set of fee inputs, keeps texts as codes into
their few distinct values and solves prices once per fee schedule; a line computed alone goes
through none of that sharing. Both must give the same figures, texts and errors.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.landed_cost.action import compute_lines
from xlplan.reference import default_fx, load_rules

RULES = load_rules(date(2026, 3, 1), fx=default_fx())

# (market, channel, category, listing type) as the demo lines and the fee tables name them.
SELLING = [
    ("US", "Amazon", "Electronics Accessories", ""),
    ("US", "Amazon", "Jewelry", ""),
    ("US", "Amazon", "", ""),
    ("US", "TikTok Shop", "", ""),
    ("US", "Shopify", "", ""),
    ("DE", "Amazon", "Electronic Accessories", ""),
    ("GB", "Amazon", "Electronic Accessories", ""),
    ("JP", "Amazon", "Accessories (Electronics/Camera/PC)", ""),
    ("MX", "Mercado Libre", "", "clasica"),
    ("BR", "Mercado Libre", "Eletrônicos, Áudio e Vídeo", "classico"),
    ("BR", "Shopee", "", ""),
]

# Numbers a cell can hold: Excel has no subnormal doubles.
sizes = st.floats(1, 120, allow_subnormal=False)
blank_or = st.one_of  # a blank cell is None


@st.composite
def fee_line(draw: st.DrawFn) -> dict[str, object]:
    market, channel, category, listing = draw(st.sampled_from(SELLING))
    sized = draw(st.booleans())
    return dict(
        market=market,
        channel=channel,
        category=category or None,
        listing_type=listing or None,
        unit_cost=draw(st.floats(1, 400, allow_subnormal=False)),
        cost_currency="CNY",
        freight_per_unit=draw(st.floats(0, 20, allow_subnormal=False)),
        hs_code=draw(st.sampled_from(["85076000", "85044095", "61091000", None])),
        price=draw(st.floats(5, 3000, allow_subnormal=False)),
        referral_rate=draw(blank_or(st.none(), st.floats(0, 0.2, allow_subnormal=False))),
        last_mile_per_unit=draw(blank_or(st.none(), st.floats(0, 10, allow_subnormal=False))),
        storage_per_unit=draw(blank_or(st.none(), st.floats(0, 2, allow_subnormal=False))),
        length_cm=draw(sizes) if sized else None,
        width_cm=draw(sizes) if sized else None,
        height_cm=draw(sizes) if sized else None,
        weight_kg=draw(st.floats(0.01, 30, allow_subnormal=False)) if sized else None,
        months_in_stock=draw(blank_or(st.none(), st.floats(0.1, 14, allow_subnormal=False))),
        sell_month=draw(blank_or(st.none(), st.integers(1, 12))),
        competitor_price=draw(blank_or(st.none(), st.floats(5, 3000, allow_subnormal=False))),
        target_margin=draw(blank_or(st.none(), st.floats(-0.3, 0.5, allow_subnormal=False))),
    )


@st.composite
def fee_lines(draw: st.DrawFn) -> pd.DataFrame:
    """A few distinct lines, repeated at other prices: lines that share their fee inputs."""
    pool = draw(st.lists(fee_line(), min_size=1, max_size=5))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=10))
    prices = draw(
        st.lists(
            st.floats(5, 3000, allow_subnormal=False), min_size=len(picks), max_size=len(picks)
        )
    )
    rows = [
        dict(pool[i], price=p) if k % 2 else pool[i]
        for k, (i, p) in enumerate(zip(picks, prices, strict=True))
    ]
    return pd.DataFrame(rows)


def _same(table: pd.DataFrame, alone: pd.DataFrame) -> None:
    assert list(table.columns) == list(alone.columns)
    for key in table.columns:
        a, b = table[key], alone[key]
        if pd.api.types.is_float_dtype(a.dtype):
            assert np.allclose(
                a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-12, atol=0, equal_nan=True
            ), key
        else:
            assert a.fillna("").astype(str).tolist() == b.fillna("").astype(str).tolist(), key


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(fee_lines())
def test_table_with_fee_tables_equals_lines_computed_alone(frame: pd.DataFrame) -> None:
    table = compute_lines(frame, RULES)
    alone = [compute_lines(frame.iloc[[i]], RULES) for i in range(len(frame))]
    _same(table.outputs, pd.concat([r.outputs for r in alone]))
    own_errors = [
        (i, c, zh, en)
        for i, r in enumerate(alone)
        for c, zh, en in r.errors[["column", "zh", "en"]].itertuples(index=False, name=None)
    ]
    errors = table.errors[["row", "column", "zh", "en"]].itertuples(index=False, name=None)
    assert sorted(map(tuple, errors)) == sorted(own_errors)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(fee_lines())
def test_schedules_priced_one_by_one_equal_the_per_line_path(frame: pd.DataFrame) -> None:
    """Lines that share a few fee schedules are priced and solved schedule by schedule; the
    per-line path (many distinct schedules) must give the very same figures."""
    from xlplan.landed_cost import fees

    grouped = compute_lines(frame, RULES).outputs
    limit = fees.GROUPED_SCHEDULES
    fees.GROUPED_SCHEDULES = 0
    try:
        per_line = compute_lines(frame, RULES).outputs
    finally:
        fees.GROUPED_SCHEDULES = limit
    pd.testing.assert_frame_equal(grouped, per_line, check_exact=True)


@settings(max_examples=25, deadline=None)
@given(fee_lines())
def test_results_read_alike_at_any_size_and_numbering(frame: pd.DataFrame) -> None:
    """The results table of a few lines (rounded as one block, frames numbered 0..n-1 used as
    they are) is the one of the column-by-column path, and of the same lines numbered
    otherwise; each line alone (a one-line UDF's table) reads as its row."""
    from xlplan.landed_cost import action

    table, errors = action.results_table(frame, RULES)
    limit = action._ROUNDED_TOGETHER
    action._ROUNDED_TOGETHER = 0
    try:
        columns, _ = action.results_table(frame, RULES)
    finally:
        action._ROUNDED_TOGETHER = limit
    pd.testing.assert_frame_equal(table, columns, check_exact=True)
    shifted = frame.set_axis(pd.RangeIndex(7, 7 + len(frame)))
    other, other_errors = action.results_table(shifted, RULES)
    pd.testing.assert_frame_equal(other.reset_index(drop=True), table, check_exact=True)
    pd.testing.assert_frame_equal(other_errors, errors)
    for i in range(len(frame)):
        alone, _ = action.results_table(frame.iloc[[i]].reset_index(drop=True), RULES)
        _same(alone.reset_index(drop=True), table.iloc[[i]].reset_index(drop=True))


@settings(max_examples=25, deadline=None)
@given(fee_lines())
def test_columns_handed_over_are_the_tables_columns(frame: pd.DataFrame) -> None:
    """The columns the one-line UDFs read (no frame built between the steps) are the results
    table's, the calculator's outputs and the fee outputs, bit for bit."""
    from xlplan.core.columns import Columns
    from xlplan.landed_cost import action, fees
    from xlplan.landed_cost.calc import TEXT_OUTPUTS, compute_landed_cost, landed_cost_columns

    table, errors = action.results_table(frame, RULES)
    columns, column_errors = action.results_columns(frame, RULES)
    assert list(columns) == list(table.columns)
    for key, values in columns.items():
        if (
            key in ("sku", "channel")
            and key in frame
            and isinstance(frame[key].dtype, pd.StringDtype)
        ):
            # these labels stay as the lines hold them: text in Arrow is not made Python
            # strings (the market is its code, read from the typed lines)
            assert isinstance(values, pd.api.extensions.ExtensionArray), key
            values = np.asarray(values)
        if key in TEXT_OUTPUTS:  # a few texts and a code per line, to the writers as such
            assert isinstance(values, pd.Categorical), key
            assert isinstance(table[key].dtype, pd.CategoricalDtype), key
            values = np.asarray(values, dtype=object)
        assert isinstance(values, np.ndarray), key
        np.testing.assert_array_equal(
            values,
            table[key].to_numpy(dtype=object if key in TEXT_OUTPUTS else None),
            strict=True,
            err_msg=key,
        )
    pd.testing.assert_frame_equal(column_errors, errors)

    typed, input_errors = action.typed_lines(frame, RULES)
    assert isinstance(typed, Columns)
    outputs = landed_cost_columns(typed, RULES, input_errors)
    as_frame = pd.DataFrame(
        {
            k: v.astype(object) if isinstance(v, pd.Categorical) else v
            for k, v in typed.columns.items()
        }
    )
    result = compute_landed_cost(as_frame, RULES, input_errors)
    for key, values in outputs.columns.items():
        np.testing.assert_array_equal(
            np.asarray(values, dtype=object) if key in TEXT_OUTPUTS else values,
            result.outputs[key].to_numpy(),
            strict=True,
            err_msg=key,
        )
    pd.testing.assert_frame_equal(outputs.errors, result.errors)

    fee_frame = frame.reindex(columns=list(fees.FEE_INPUT_KEYS)).astype(
        {k: float for k in fees.FEE_INPUT_KEYS if k not in fees._TEXT_INPUTS}
    )
    for key in fees._TEXT_INPUTS:
        fee_frame[key] = fee_frame[key].fillna("").astype(object)
    assert RULES.fees is not None
    framed = fees.compute_fees(fee_frame, RULES.fees)
    handed = fees.fee_columns(Columns.of(fee_frame), RULES.fees)
    for key, fee in handed.columns.items():
        np.testing.assert_array_equal(
            np.asarray(fee), framed.outputs[key].to_numpy(), strict=True, err_msg=key
        )
    np.testing.assert_array_equal(handed.fixed_fees, framed.fixed_fees, strict=True)
