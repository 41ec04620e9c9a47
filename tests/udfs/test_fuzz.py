"""Every ``XLP_`` function under random input of the shapes xlwings hands over.

xlwings gives a UDF floats, ``None`` for blanks, booleans, datetimes, strings, 1-D lists (a row
or column) and 2-D lists (a table with its header row; an array formula may pass ragged rows).
Whatever comes, a UDF returns a 2-D list to spill, never raises, never returns NaN or infinity
(Excel shows them as errors or crashes the spill), and every problem is a located bilingual
message: an ``#XLPLAN!`` cell that says what is wrong, never "calculation failed", which is
the last-resort guard's text for an internal error.

Tables are drawn with the real header row of the table the argument expects (so the rows reach
the calculators), or of another table, or none; cells mix every kind: blanks, text in number
columns, full-width digits, dates out of range, 1e308, infinity, NaN.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udfs
from xlplan.actions import CATALOG

FUNCTIONS: list[tuple[str, Callable[..., Any]]] = sorted(
    (name, obj)
    for module in udfs.MODULES
    for name, obj in vars(__import__(module, fromlist=["_"])).items()
    if name.startswith("XLP_") and callable(obj)
)
INTERNAL = "calculation failed"

# The table each argument name takes (others draw any catalog table's header, or none).
TABLE_OF = {
    "lines": "landed_cost",
    "fx": "fx",
    "market_overrides": "market_overrides",
    "low_value_overrides": "low_value_overrides",
    "target_lines": "target_lines",
    "markets": "market_inputs",
    "landed_cost": "landed_cost_results",
    "order_lines": "order_lines",
    "plan": "monthly_plan",
    "actuals": "actuals",
    "events": "calendar_events",
    "kpi_values": "kpi_values",
    "raw": "kpi_raw",
    "thresholds": "kpi_thresholds",
    "sales": "product_sales",
}

CODES = ["US", "DE", "JP", "BR", "MX", "CNY", "USD", "EUR", "XX", "Amazon", "keep", "pro_rata"]
SCALARS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -2.0, 1.0, 0.2, 12.0, 2026.0, 46000.0, 1e308, -1e308, 1e-300]),
    st.sampled_from([math.inf, -math.inf, math.nan]),
    st.booleans(),
    st.sampled_from(CODES),
    st.sampled_from(
        ["", " ", "１２３", "１２.５%", "12%", "2026-13-45", "2026-03-01", "=1+1", "N/A"]
    ),
    st.text(max_size=8),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from([datetime(1899, 12, 30), datetime(1, 1, 1), datetime(9999, 12, 31)]),
)


def headers_of(key: str) -> list[str]:
    table = CATALOG.tables.get(key)
    return [] if table is None else table.headers("en")


ALL_HEADERS = [headers_of(k) for k in CATALOG.tables]


@st.composite
def table_arg(draw: st.DrawFn, name: str) -> Any:
    """A 2-D list as xlwings passes a table (with its header row), or something else."""
    own = headers_of(TABLE_OF.get(name, ""))
    header = draw(
        st.one_of(
            st.just(own) if own else st.nothing(),
            st.sampled_from(ALL_HEADERS),
            st.lists(st.one_of(st.none(), st.sampled_from(CODES)), max_size=4),
        )
    )
    rows = draw(st.integers(0, 4))
    width = max(len(header), 1)
    body = []
    for _ in range(rows):
        n = draw(st.sampled_from([width, width, width - 1, width + 1, 1]))  # ragged at times
        body.append(draw(st.lists(SCALARS, min_size=max(n, 0), max_size=max(n, 0))))
    return [list(header), *body] if header or body else None


def arg(name: str) -> st.SearchStrategy[Any]:
    """Any value xlwings may pass for parameter ``name``."""
    shapes = [
        SCALARS,
        st.lists(SCALARS, min_size=1, max_size=5),  # a row or column
        table_arg(name),
    ]
    if name in TABLE_OF:
        shapes = [table_arg(name), table_arg(name), *shapes]
    return st.one_of(*shapes)


def check(name: str, result: Any) -> None:
    assert isinstance(result, list) and result, (name, result)
    for row in result:
        assert isinstance(row, list), (name, row)
        for cell in row:
            if isinstance(cell, float):
                assert math.isfinite(cell), (name, result)
            if isinstance(cell, str):
                assert INTERNAL not in cell, (name, cell)
            assert cell is None or isinstance(cell, str | int | float | bool | datetime), (
                name,
                type(cell),
            )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on 1e308 and inf: expected here
@pytest.mark.parametrize(("name", "func"), FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_a_udf_never_fails_inside_and_never_returns_a_non_finite_number(
    name: str, func: Callable[..., Any]
) -> None:
    params = list(inspect.signature(func).parameters)

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.fixed_dictionaries({p: arg(p) for p in params}))
    def run(kwargs: dict[str, Any]) -> None:
        check(name, func(**kwargs))

    run()


def test_the_udfs_are_all_here() -> None:
    # 16 before; customs' scenarios, fees' product mix and the four stock and cash functions
    assert len(FUNCTIONS) == 22, [n for n, _ in FUNCTIONS]


def test_known_internal_errors_are_located_messages() -> None:
    """The cases fuzzing found (issue 16 and this suite), each a message that says why."""
    from udfs.landed_cost import XLP_LANDED_COST_LINE, XLP_PRICE_FOR_MARGIN
    from udfs.maps import XLP_CUSTOMER_TIERS
    from udfs.planning import XLP_ALIGNMENT

    head = headers_of("landed_cost")
    line = ["A", "US", None, 5.0, "USD", 1.0, 0.5, 0.0, 0.0, 0.0, None, None, 0.0, None, 1.0]
    line += [0.5, 20.0]
    out = XLP_PRICE_FOR_MARGIN(head, line, [[0.1, 0.2, 0.3]])  # a range for one value
    assert out == [
        [
            "#XLPLAN! 此处应为一个单元格，而不是 3 个单元格的区域 / expected one cell "
            "here, not a range of 3 cells"
        ]
    ]
    assert INTERNAL not in str(XLP_PRICE_FOR_MARGIN(head, [], 0.2))
    targets = [headers_of("target_lines"), ["business", "x", "US"] + [None] * 4 + [1e6]]
    for unit in (0, -5, "abc"):
        out = XLP_ALIGNMENT(targets, 1e6, "keep", unit, 2027)
        assert str(out[0][0]).startswith("#XLPLAN!") and INTERNAL not in str(out), out
    assert "rules date not recognised" in str(XLP_LANDED_COST_LINE(head, line, None, None, -2))
    orders = [headers_of("order_lines"), ["o1", "c1", datetime(1, 1, 1), 10.0, "USD"]]
    out = XLP_CUSTOMER_TIERS(orders, None, None, None, None, datetime(1, 1, 1) + timedelta(1))
    assert INTERNAL not in str(out)
