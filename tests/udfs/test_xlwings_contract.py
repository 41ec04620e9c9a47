"""What Excel on Windows gets from the UDF modules (``udfs.MODULES``), checked with xlwings'
own code.

The ``xlwings_windows`` fixture (``conftest.py``, ``xlwings_windows.py``) imports xlwings' real
Windows UDF machinery with the Windows-only modules stood in. These tests check the metadata the
real ``xlfunc/xlarg/xlret`` record, the VBA wrappers ``generate_vba_wrapper`` writes for the
add-in, and a call of each UDF through ``conversion.read`` / ``conversion.write`` the way
``xlwings.udfs.call_udf`` makes it.
"""

from __future__ import annotations

import importlib
import inspect
import io
import math
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlwings_windows import ALIAS_PREFIX, CELL_ERRORS, WindowsXlwings, windows_xlwings

import udfs
from udfs import kpi, landed_cost, maps, planning, supply
from udfs.common import raw_table, table_of
from xlplan import reference
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_OUTPUT_COLUMNS
from xlplan.plan.tables import FX

UDFS = (
    "XLP_LANDED_COST",
    "XLP_LANDED_COST_LINE",
    "XLP_IMPORT_TAXES",
    "XLP_PRICE_FOR_MARGIN",
    "XLP_SCENARIOS",
    "XLP_SPREAD",
    "XLP_PHASE",
    "XLP_ALIGNMENT",
    "XLP_TRACKING",
    "XLP_FORECAST",
    "XLP_KPI_FLAGS",
    "XLP_KPI_FLAG",
    "XLP_KPI",
    "XLP_KPI_FROM_RAW",
    "XLP_MARKET_SCREEN",
    "XLP_CUSTOMER_TIERS",
    "XLP_PRODUCT_MAP",
    "XLP_STOCK_PLAN",
    "XLP_PURCHASE_ORDERS",
    "XLP_CASH_CURVE",
    "XLP_ORDER_BY",
    "XLP_PRODUCT_MIX",
)
TABLE_ARGS = {
    "lines",
    "fx",
    "market_overrides",
    "low_value_overrides",
    "events",
    "target_lines",
    "plan",
    "actuals",
    "kpi_values",
    "thresholds",
    "raw",
    "markets",
    "settings",
    "landed_cost",
    "order_lines",
    "assumptions",
    "sales",
    "economics",
    "routes",
    "skus",
    "closures",
    "transit",
    "launches",
    "results",
    "payouts",
    "tariff",
    "entry_fees",
    "rounding",
    "fee_overrides",
    "scenarios",
    "selection",
}
ROW_ARGS = {"headers", "values", "weights"}
RAW_ARGS = {("XLP_LANDED_COST", "lines")}
"""Tables large enough to be handed over as COM gives them (xlwings' ``raw`` converter); the
UDF cleans them itself, per column (checked against the default converter below)."""
RAW_RETURNS = {"XLP_LANDED_COST"}
"""Results large enough to be handed to COM as they are (no per-cell conversion)."""
EXCEL_DOC_LIMIT = 255  # xlwings cuts descriptions to this for Application.MacroOptions
# Reserved VBA identifiers (MS-VBAL 3.3.5.2) that could plausibly be argument names.
VBA_RESERVED = {
    "and", "any", "as", "boolean", "byref", "byte", "byval", "call", "case", "close", "const",
    "currency", "date", "declare", "dim", "do", "double", "each", "else", "empty", "end", "enum",
    "erase", "error", "event", "exit", "false", "for", "function", "get", "global", "goto", "if",
    "in", "input", "integer", "is", "len", "let", "like", "lock", "long", "loop", "me", "mid",
    "mod", "new", "next", "not", "nothing", "null", "object", "on", "open", "option", "optional",
    "or", "paramarray", "print", "private", "property", "public", "put", "resume", "return",
    "seek", "select", "set", "single", "static", "step", "stop", "string", "sub", "then", "to",
    "true", "type", "unlock", "until", "variant", "wend", "while", "with", "write", "xor",
}  # fmt: skip
EN = LANDED_COST.headers("en")
OUT_EN = [c.en for c in LANDED_COST_OUTPUT_COLUMNS]
ON = datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def module(xlwings_windows: WindowsXlwings) -> SimpleNamespace:
    return xlwings_windows.load_udfs()


def line(**cells: Any) -> list[Any]:
    return [cells.get(k) for k in LANDED_COST.keys]


def fx_table() -> list[list[Any]]:
    table = reference.default_fx()[["from_currency", "to_currency", "rate", "as_of", "source"]]
    return [FX.headers("en"), *table.to_numpy(dtype=object).tolist()]


def assert_excel_block(value: Any) -> None:
    """What ``conversion.write`` hands Excel: a rectangular 2-D list, no NaN/None/index."""
    assert isinstance(value, list) and value and all(isinstance(r, list) for r in value)
    assert len({len(r) for r in value}) == 1
    for row in value:
        for v in row:
            assert type(v) in (str, float, int, bool), (type(v), v)  # no numpy scalar, no None
            assert not (isinstance(v, float) and not math.isfinite(v)), row


def test_the_stand_ins_are_undone_on_exit() -> None:
    import ctypes
    import sys

    import xlwings

    def state() -> tuple[Any, ...]:
        return (
            {k: id(v) for k, v in sys.modules.items() if not k.startswith(ALIAS_PREFIX)},
            {k: id(getattr(ctypes, k, None)) for k in ("windll", "oledll", "WinDLL", "PyDLL")},
            [e.name for e in xlwings.engines],
            xlwings.engines.active,
            (xlwings.func, xlwings.arg, xlwings.ret),
        )

    before = state()
    with windows_xlwings() as w:
        assert w.load("udfs.landed_cost").XLP_LANDED_COST.__xlfunc__
        assert "excel" in [e.name for e in xlwings.engines]
    assert state() == before


# ---------------------------------------------------------------------------------------------
# Metadata recorded by xlwings.udfs.xlfunc / xlarg / xlret
# ---------------------------------------------------------------------------------------------


def test_the_modules_expose_exactly_the_xlp_functions(xlwings_windows: WindowsXlwings) -> None:
    found: list[str] = []
    for name in udfs.MODULES:
        loaded = xlwings_windows.load(name)
        mine = [n for n in dir(loaded) if hasattr(getattr(loaded, n), "__xlfunc__")]
        assert mine and all(n.startswith("XLP_") for n in mine), name
        found += mine
    assert sorted(found) == sorted(UDFS)  # each function in one module, none missing
    assert not any(hasattr(_plain(n), "__xlfunc__") for n in UDFS)  # Linux: plain


@pytest.mark.parametrize("name", UDFS)
def test_metadata_matches_the_signature(module: SimpleNamespace, name: str) -> None:
    f = getattr(module, name)
    info = f.__xlfunc__
    assert info["name"] == name
    assert (info["sub"], info["volatile"], info["async_mode"]) == (False, False, None)
    assert info["category"] == "XLPlan" and info["call_in_wizard"] is True
    params = inspect.signature(_plain(name)).parameters
    assert [a["name"] for a in info["args"]] == list(params)
    for arg in info["args"]:
        default = params[arg["name"]].default
        if default is inspect.Parameter.empty:
            assert "optional" not in arg, arg["name"]
        else:
            assert arg["optional"] == default, arg["name"]
        assert not arg["vararg"] and arg["vba"] is None


@pytest.mark.parametrize("name", UDFS)
def test_argument_options_convert_as_intended(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings, name: str
) -> None:
    accessors = xlwings_windows.conversion.accessors
    for arg in getattr(module, name).__xlfunc__["args"]:
        options = arg["options"]
        # A type hint becomes a converter; it must be one xlwings has (``X | None`` is not).
        assert options["convert"] in accessors, (arg["name"], options["convert"])
        if (name, arg["name"]) in RAW_ARGS:
            assert options == {"convert": "raw"}, arg["name"]
        elif arg["name"] in TABLE_ARGS:
            assert options["ndim"] == 2 and options["err_to_str"] is True, arg["name"]
        elif arg["name"] in ROW_ARGS:
            assert options["ndim"] == 1 and options["err_to_str"] is True, arg["name"]
        else:
            assert "ndim" not in options, arg["name"]  # a scalar cell stays a scalar


@pytest.mark.parametrize("name", UDFS)
def test_return_options_write_a_plain_2d_list(module: SimpleNamespace, name: str) -> None:
    ret = getattr(module, name).__xlfunc__["ret"]
    if name in RAW_RETURNS:
        assert ret["options"] == {"convert": "raw"}  # handed to COM as it is
        return
    assert ret["options"]["convert"] is list
    assert ret["options"]["index"] is False  # a DataFrame would not spill its index either
    assert "expand" not in ret["options"]  # Excel 365 spills natively; no legacy resizing


@pytest.mark.parametrize("name", UDFS)
def test_function_wizard_texts(module: SimpleNamespace, name: str) -> None:
    info = getattr(module, name).__xlfunc__
    doc = info["ret"]["doc"]
    summary = doc.split("\n\n")[0]
    assert len(summary) <= EXCEL_DOC_LIMIT  # the whole summary survives MacroOptions' cut
    assert re.search(r"[\u4e00-\u9fff]", summary) and re.search(r"[A-Za-z]{4}", summary)
    for arg in info["args"]:
        assert not arg["doc"].startswith("Positional argument"), arg["name"]
        assert len(arg["doc"]) <= EXCEL_DOC_LIMIT, arg["name"]
        assert " / " in arg["doc"], arg["name"]  # zh / en


# ---------------------------------------------------------------------------------------------
# VBA wrappers written by xlwings.udfs.generate_vba_wrapper
# ---------------------------------------------------------------------------------------------


class AddinBook:
    """What generate_vba_wrapper reads of the workbook: its name (an add-in here)."""

    Name = "xlplan.xlam"


OWNER = {
    name: module_name
    for module_name, plain_module in zip(
        udfs.MODULES, (landed_cost, planning, kpi, maps, supply), strict=True
    )
    for name in dir(plain_module)
    if name.startswith("XLP_")
}
"""The UDF module each function lives in (its VBA wrapper names it)."""


@pytest.fixture(scope="module")
def vba(xlwings_windows: WindowsXlwings) -> str:
    """The VBA xlwings writes into the add-in: one wrapper module per UDF module, as
    ``import_udfs`` loops over ``UDF Modules``."""
    out = io.StringIO()
    for name in udfs.MODULES:
        loaded = xlwings_windows.load(name)
        xlwings_windows.udfs.generate_vba_wrapper(name, loaded, out, AddinBook())
    return out.getvalue()


def _plain(name: str) -> Any:
    return getattr(importlib.import_module(OWNER[name]), name)


def _vba_signature(name: str) -> str:
    params = inspect.signature(_plain(name)).parameters.values()
    parts = [
        p.name if p.default is inspect.Parameter.empty else f"Optional {p.name}" for p in params
    ]
    return f"Function {name}({', '.join(parts)})"


@pytest.mark.parametrize("name", UDFS)
def test_vba_wrapper_per_function(vba: str, name: str) -> None:
    assert _vba_signature(name) + "\n" in vba
    args = ", ".join(inspect.signature(_plain(name)).parameters)
    call = (
        f'XLPy.CallUDF("{OWNER[name]}", "{name}", Array({args}), ActiveWorkbook, '
        "Application.Caller)"
    )
    assert f"{name} = {call}" in vba
    assert f"{name} = Err.Description" in vba


def test_vba_module_has_only_our_functions(vba: str) -> None:
    assert sorted(re.findall(r"^Function (\w+)\(", vba, flags=re.M)) == sorted(UDFS)
    assert vba.count("End Function") == len(UDFS)
    assert "ThisWorkbook" not in vba  # add-ins must call into the active workbook


def test_vba_names_are_legal(vba: str) -> None:
    for name in UDFS:
        params = list(inspect.signature(_plain(name)).parameters)
        for p in [name, *params]:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,254}", p), p
            assert p.lower() not in VBA_RESERVED, p
    assert all(len(line) <= 1023 for line in vba.splitlines())


# ---------------------------------------------------------------------------------------------
# Calls through xlwings.conversion.read / write, as call_udf makes them
# ---------------------------------------------------------------------------------------------


def test_table_udf_through_xlwings_conversion(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    rows = [
        EN,
        line(sku="A", market="DE", unit_cost=12.0, cost_currency="CNY", price=19.99,
             referral_rate=0.15, target_margin=0.2),
        line(sku="B", market="GB", unit_cost=CELL_ERRORS["#N/A"], price=15.0),
        line(sku="C", market="US", unit_cost=3.0, price=9.99, vat_recoverable=False),
    ]  # fmt: skip
    when = xlwings_windows.time_type(2026, 1, 1)  # a date cell, as COM hands it over
    written = xlwings_windows.call(module.XLP_LANDED_COST, rows, fx_table(), None, None, when)
    assert_excel_block(written)
    assert written[0] == OUT_EN  # the header row first, no index column
    assert len(written) == len(rows)
    error = OUT_EN.index("Error")
    assert [r[error] for r in written[1:]][::2] == ["", ""]
    assert "'#N/A'" in written[2][error]  # err_to_str: an error cell reads as its text
    as_text = [[("#N/A" if v == CELL_ERRORS["#N/A"] else v) for v in r] for r in rows]
    assert written[1:] == landed_cost.XLP_LANDED_COST(as_text, fx_table(), None, None, ON)[1:]


def test_raw_lines_read_as_the_default_converter_would(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    # The lines reach XLP_LANDED_COST as COM hands them (the raw converter: tuples, error
    # values as ints, dates as TimeType, "" for a cleared cell); the UDF's own per-column
    # reading must give what the default converter (ndim=2, err_to_str) would have.
    when = xlwings_windows.time_type
    blank = [None] * len(EN)
    rows = tuple(
        tuple(r)
        for r in (
            EN,
            line(sku="A", market="DE", unit_cost=12.0, cost_currency="CNY", price=19.99,
                 referral_rate=0.15, target_margin=0.2),
            line(sku="", market="GB", unit_cost=CELL_ERRORS["#N/A"], price=15.0),
            line(sku=CELL_ERRORS["#VALUE!"], market="US", unit_cost=3.0, price="",
                 vat_recoverable=True),
            line(sku="D", market="JP", unit_cost=when(2026, 1, 1, 12, 30), price=2980.0),
            line(sku="E", market=" us ", unit_cost=3, price=9.99, vat_recoverable=1.0,
                 sell_month=3),
            line(sku="F", market="MX", unit_cost="12", price=" 199 ", duty_rate="5%"),
            blank,
            line(sku="G", market="DE", unit_cost=5.0, price=True,
                 hs_code=CELL_ERRORS["#DIV/0!"]),
            line(sku="H", market="DE", unit_cost=5.0, price=20.0, weight_kg=""),
            [""] * len(EN),
            [None, "  ", *blank[2:]],
        )
    )  # fmt: skip
    cleaned = xlwings_windows.read(rows, {"ndim": 2, "err_to_str": True})
    frame, header = raw_table(rows, LANDED_COST)
    before = table_of(cleaned, LANDED_COST)
    assert frame is not None and before is not None and header == [EN]
    pd.testing.assert_frame_equal(_cells(frame), _cells(before))
    written = xlwings_windows.call(module.XLP_LANDED_COST, rows, fx_table(), None, None, ON)
    assert_excel_block(written)
    out = landed_cost._landed_cost(before, fx_table(), None, None, ON)
    assert written == [OUT_EN, *landed_cost._cells(out)]
    errors = [r[OUT_EN.index("Error")] for r in written[1:]]
    assert "'#N/A'" in errors[1] and errors[6] == ""  # the blank row stays blank


_COM_CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "DE", "us", "12", "5%", "abc", "TRUE"]),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-5, 5),
    st.booleans(),
    st.sampled_from(list(CELL_ERRORS.values())),
    st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.lists(_COM_CELLS, min_size=len(EN), max_size=len(EN)), max_size=5),
    columns=st.lists(st.sampled_from(range(len(EN))), min_size=1, max_size=6, unique=True),
)
def test_raw_tables_always_read_as_the_default_converter_would(
    xlwings_windows: WindowsXlwings, body: list[list[Any]], columns: list[int]
) -> None:
    # Any mix of what COM hands over, in any subset and order of the columns: the per-column
    # reading equals the default converter's cell by cell reading.
    time_type = xlwings_windows.time_type
    rows = tuple(
        tuple(time_type(*v.timetuple()[:6]) if isinstance(v, datetime) else v for v in r)
        for r in [EN, *body]
    )
    rows = tuple(tuple(r[i] for i in columns) for r in rows)
    frame, _ = raw_table(rows, LANDED_COST)
    before = table_of(xlwings_windows.read(rows, {"ndim": 2, "err_to_str": True}), LANDED_COST)
    assert frame is not None and before is not None
    pd.testing.assert_frame_equal(_cells(frame), _cells(before))


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A raw table as cells: objects, a blank as None (a numeric column read as float64 and
    one read as cells compare equal), keyed by its column keys however the reader holds them
    (a one-row read keeps its keys as objects, pandas' default is Arrow)."""
    cells = frame.astype(object)
    cells.columns = pd.Index(cells.columns, dtype=object)
    return cells.where(cells.notna(), None)


def test_missing_optional_arguments_take_their_defaults(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    rows = [EN, line(market="GB", unit_cost=4.0, price=15.0)]
    written = xlwings_windows.call(module.XLP_LANDED_COST, rows)  # only lines given
    assert_excel_block(written)
    assert written == landed_cost.XLP_LANDED_COST(rows)


def test_single_cell_table_is_still_2d(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    written = xlwings_windows.call(module.XLP_LANDED_COST, "Market")  # a 1 x 1 range
    assert_excel_block(written)
    assert written == [OUT_EN]


@pytest.mark.parametrize(
    ("output", "expected_width"), [(None, len(OUT_EN)), ("Landed cost", 1), ("落地成本", 1)]
)
def test_line_udf_through_xlwings_conversion(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings, output: Any, expected_width: int
) -> None:
    values = line(market="GB", unit_cost=4.0, price=15.0, freight_per_unit=1.0, duty_rate=0.04)
    # A header row range and a data row range; ndim=1 turns both into flat lists.
    written = xlwings_windows.call(
        module.XLP_LANDED_COST_LINE, [EN], [values], output, None, 46023.0
    )
    assert_excel_block(written)
    assert len(written) == 1 and len(written[0]) == expected_width
    assert written == landed_cost.XLP_LANDED_COST_LINE(EN, values, output, None, ON)


def test_import_taxes_through_xlwings_conversion(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    when = xlwings_windows.time_type(2026, 1, 1)
    written = xlwings_windows.call(
        module.XLP_IMPORT_TAXES, "DE", 100.0, 10.0, 0.04, None, None, when
    )
    assert written == [[110.0, 4.4, 21.74]]
    written = xlwings_windows.call(module.XLP_IMPORT_TAXES, "DE", 100.0)  # defaults, today
    assert_excel_block(written)


def test_price_for_margin_through_xlwings_conversion(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    values = line(market="JP", unit_cost=300.0, price=2980.0, referral_rate=0.1,
                  referral_min=30.0)  # fmt: skip
    written = xlwings_windows.call(module.XLP_PRICE_FOR_MARGIN, EN, values, 0.15, None, ON)
    assert_excel_block(written)
    assert written == landed_cost.XLP_PRICE_FOR_MARGIN(EN, values, 0.15, None, ON)
    assert isinstance(written[0][0], float) and written[0][0] == round(written[0][0])


def test_errors_reach_excel_as_one_text_cell(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    written = xlwings_windows.call(module.XLP_LANDED_COST, [["no", "headers"], [1.0, 2.0]])
    assert_excel_block(written)
    assert len(written) == 1 and written[0][0].startswith("#XLPLAN! ")


def test_ret_options_would_not_spill_a_dataframe_index(
    module: SimpleNamespace, xlwings_windows: WindowsXlwings
) -> None:
    # The UDFs return lists; should one ever return a DataFrame, index=False keeps the
    # index column out of the sheet (the mistake ARCHITECTURE.md warns about).
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x", "y"]}, index=[7, 8])
    options = module.XLP_SCENARIOS.__xlfunc__["ret"]["options"]
    written = xlwings_windows.write(frame, dict(options))
    assert written == [["a", "b"], [1.0, "x"], ["", "y"]]
