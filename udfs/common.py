"""What every UDF module shares: the coercion of what xlwings hands over, the ``#XLPLAN!``
guard, and the shape of what goes back to Excel.

xlwings hands a UDF floats, ``None`` for blank cells, booleans, datetimes and 2-D lists of a
table *with its header row*. Each UDF turns them into a call of its capability's vectorised
code and returns a plain 2-D list that Excel spills (never a DataFrame: it would spill its
index). Blank and not-a-number results are ``""``; Excel never sees NaN or infinity.

Nothing raises into Excel: problems in the data are values (a row's error cell), and anything
the data cannot explain becomes one cell ``#XLPLAN! 中文 / English``.

Tables of thousands of rows (``XLP_LANDED_COST``'s lines and result) skip xlwings' per-cell
conversion: they pass through its ``raw`` converter (:data:`RAW_TABLE_ARG`, :data:`RAW_RET`),
:func:`raw_table` reads the cells as the default converter would have, one column at a time,
and the UDF returns only what COM takes as it is.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, ParamSpec

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.actions import CATALOG
from xlplan.core import parse
from xlplan.core.errors import ErrorRecord, InputError, format_error, records
from xlplan.plan.read import fx_table as read_fx_table
from xlplan.plan.tables import FX
from xlplan.planning.action import market_regions
from xlplan.workbook.schema import (
    NUMERIC_KINDS,
    Column,
    Kind,
    Table,
    frame_from_rows,
    map_headers,
    normalise_header,
)

Block = list[list[Any]]
P = ParamSpec("P")

ERROR_PREFIX = "#XLPLAN!"
CATEGORY = "XLPlan"

TABLE_ARG = {"ndim": 2, "err_to_str": True}
RAW_TABLE_ARG = {"convert": "raw"}
"""A large table handed over as COM gives it (xlwings' ``raw`` converter: no per-cell
cleaning); :func:`raw_table` then does in one pass per column what xlwings' default converter
does cell by cell. For the tables that can hold thousands of rows."""
RAW_RET = {"convert": "raw"}
"""A large result handed to COM as it is (xlwings' ``raw`` converter: no per-cell
``prepare_xl_data_element``); the UDF returns only what COM takes: a list of rows of ``str``,
``float`` and ``bool``, ``""`` for a blank (never None, NaN or a numpy scalar). A list (not a
tuple): xlwings sizes an ``expand`` result only when it is one."""
CELL_ERRORS = {
    -2146826281: "#DIV/0!",
    -2146826246: "#N/A",
    -2146826259: "#NAME?",
    -2146826288: "#NULL!",
    -2146826252: "#NUM!",
    -2146826265: "#REF!",
    -2146826273: "#VALUE!",
}
"""Excel's error values as COM hands them over (an int), and the text xlwings' ``err_to_str``
makes of them (``xlwings._xlwindows.cell_errors``, which imports only on Windows)."""
ROW_ARG = {"ndim": 1, "err_to_str": True}
DOC_FX = (
    "汇率表（含表头）tblFX[#All]；空=内置汇率 / FX table with headers, tblFX[#All]; "
    "blank = the shipped rates"
)
DOC_DATE = (
    "规则日期（日期、序列号或 2026-01-01），空=今天 / "
    "rules date (a date, serial or 2026-01-01); blank = today"
)
DOC_YEAR = "计划年度，如 2027 / plan year, e.g. 2027"
DOC_UNIT = "取整单位，如 1 或 10000；可省略 / rounding unit, e.g. 1 or 10000; optional"
DOC_MAP_FX = "汇率表 tblFX[#All]；空=内置汇率 / FX table, tblFX[#All]; blank = shipped rates"
DOC_CURRENCY = (
    "报告币种，如 ReportingCurrency；空=CNY / reporting currency, e.g. ReportingCurrency; "
    "blank = CNY"
)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def rows_of(value: Any) -> Block | None:
    """A range's value as a list of rows; None when the range is missing or all blank."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        rows: Block = [list(value.columns), *value.to_numpy(dtype=object).tolist()]
    elif isinstance(value, list | tuple):
        if not value:
            return None
        if isinstance(value[0], list | tuple):
            # xlwings hands over a list of lists; rows are only read, so not copied
            rows = [r if isinstance(r, list) else list(r) for r in value]
        else:
            rows = [list(value)]
    else:
        rows = [[value]]
    if all(is_blank(v) for r in rows for v in r):
        return None
    return rows


def raw_table(
    value: Any, table: Table, *, required: bool = False
) -> tuple[pd.DataFrame | None, Block | None]:
    """The raw table by column key (as :func:`table_of`) from a range as COM hands it over
    (xlwings' ``raw`` converter), and its header row (as a one-row block, for
    :func:`language_of`).

    The cells read exactly as xlwings' default converter (``ndim=2, err_to_str=True``) would
    have handed them over: ``""`` is blank (None), an error value is its text (``#N/A``), a
    date is a plain datetime; only done per column, not per cell. A numeric column (of the
    schema) whose cells are all numbers or blank comes as one float64 array (NaN where blank),
    as the file reader hands it over, so the one cell parser reads it as one array.
    """
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(r, list | tuple) for r in value)
        and not all(is_blank(v) for r in value for v in r)
    ):
        given: Sequence[Sequence[Any]] = value  # COM's rows as they are: only read, not copied
    else:
        given = rows_of(value) or []
    if not given:
        return table_from_rows(None, table, required=required), None
    header = _cleaned(np.array(given[0], dtype=object)).tolist()
    found, _ = map_headers(header, table)
    if not found:
        rows = [header, *map(list, given[1:])]
        return table_from_rows(rows, table, required=required), rows
    body = given[1:]
    n = len(body)
    while n and all(v is None or str(v).strip() == "" for v in body[n - 1]):
        n -= 1
    body = body[:n]
    width = max(found) + 1
    if n and len({len(r) for r in body}) == 1 and len(body[0]) >= width:
        columns: list[Sequence[Any]] = list(zip(*body, strict=True))
    else:  # ragged rows: short ones are blank to the right
        columns = [[r[i] if i < len(r) else None for r in body] for i in range(width)]
    numeric = {c.key for c in table.columns if c.kind in NUMERIC_KINDS}
    data = {key: _raw_column(columns[i], key in numeric) for i, key in found.items()}
    for key in table.keys:
        if key not in data:
            data[key] = np.full(n, None, dtype=object)
    frame = pd.DataFrame(
        {key: pd.Series(data[key], dtype=data[key].dtype, copy=False) for key in table.keys},
        index=pd.RangeIndex(n),
    )
    return frame, [header]


_PLAIN = frozenset({str, float, bool, type(None)})
"""Cell types COM hands over that xlwings' default converter leaves as they are (but ``""``)."""


def _raw_column(cells: Sequence[Any], numeric: bool) -> np.ndarray:
    types = set(map(type, cells))
    if numeric and types == {type(None)}:
        return np.full(len(cells), np.nan)
    if numeric and types <= {float, int, type(None)}:
        if int not in types or not any(v in CELL_ERRORS for v in cells if type(v) is int):
            try:
                return np.array(cells, dtype=np.float64)  # None -> NaN
            except OverflowError:  # an int too large for a float: the parser reports it
                pass
    column = np.array(cells, dtype=object)
    if column.ndim != 1:  # a cell holding a sequence: numpy would have nested it
        column = np.empty(len(cells), dtype=object)
        column[:] = list(cells)
    return _cleaned(column, types)


def _cleaned(column: np.ndarray, types: set[type] | None = None) -> np.ndarray:
    """A column's cells as xlwings' default converter hands them over (its
    ``_clean_value_data_element``): ``""`` -> None, an error value -> its text, a date (COM's
    ``pywintypes.TimeType``) -> a naive datetime."""
    if types is None:
        types = set(map(type, column))
    if str in types:
        column[column == ""] = None
    if types - _PLAIN:
        for i in np.flatnonzero([type(v) not in _PLAIN for v in column]):
            column[i] = _cleaned_cell(column[i])
    return column


def _cleaned_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
        )
    if isinstance(value, int) and not isinstance(value, bool) and value in CELL_ERRORS:
        return CELL_ERRORS[value]
    return value


def flat(value: Any) -> list[Any]:
    """One row of cells from a row range (1-D or 2-D list, or a single cell)."""
    rows = rows_of(value)
    return [] if rows is None else [v for r in rows for v in r]


def scalar(value: Any) -> Any:
    """A single cell's value, also when xlwings hands over a 1 x 1 range as a list; an empty
    range is blank, a range of several cells where one is expected is an InputError."""
    while isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, list | tuple):
        cells = len(flat(value))
        if not cells:
            return None
        raise InputError(
            f"此处应为一个单元格，而不是 {cells} 个单元格的区域",
            f"expected one cell here, not a range of {cells} cells",
        )
    return value


def table_of(value: Any, table: Table, *, required: bool = False) -> pd.DataFrame | None:
    """The raw table by column key from a range with its header row (zh or en headers)."""
    return table_from_rows(rows_of(value), table, required=required)


def table_from_rows(
    rows: Block | None, table: Table, *, required: bool = False
) -> pd.DataFrame | None:
    """The raw table by column key from a header row and data rows; a clear error when the
    header row is missing (or the table is, and ``required``)."""
    if rows is None:
        if required:
            raise InputError(
                f"缺少{table.zh}（请传入含表头的整张表: {table.name}[#All]）",
                f"missing {table.en.lower()} (pass the whole table with its headers: "
                f"{table.name}[#All])",
            )
        return None
    found, _ = map_headers(rows[0], table)
    if not found:
        raise InputError(
            f"{table.zh}缺少表头行（请传入 {table.name}[#All]）",
            f"{table.en}: no header row recognised (pass {table.name}[#All])",
        )
    return frame_from_rows(rows, table)


def date_arg(value: Any) -> date:
    """The rules date from a cell: a date, an Excel serial, ``2026-01-01`` or ``2026年1月1日``;
    blank = today."""
    value = scalar(value)
    if is_blank(value):
        return date.today()  # the edge may read the clock; the domain takes the date
    try:
        return _day_of(type(value).__name__, value)
    except TypeError:  # not hashable: read it each time
        return _day_of.__wrapped__(type(value).__name__, value)


@functools.lru_cache(maxsize=256)
def _day_of(kind: str, value: Any) -> date:
    """A non-blank rules date read (:func:`date_arg`), remembered by its type and value: every
    one-line formula of a sheet names the same date, read once rather than once per call."""
    day = parse.parse_date(value)
    if day is None or not 1900 <= day.year <= 2100:
        raise InputError(
            f"规则日期无法识别: '{value}'（请填写日期，如 2026-01-01）",
            f"rules date not recognised: '{value}' (enter a date such as 2026-01-01)",
        )
    return day


def never_raises(func: Callable[P, Block]) -> Callable[P, Block]:
    """Excel gets a readable one-cell ``#XLPLAN!`` text instead of an exception."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Block:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            return [[f"{ERROR_PREFIX} {exc.zh} / {exc.en}"]]
        except Exception as exc:  # the last line of defence: Excel must never see a traceback
            from xlplan.app import logs  # the traceback goes to the log the cell names

            log = logs.log_exception(func.__name__, exc)
            text = f"{type(exc).__name__}: {exc}"[:200]
            return [
                [
                    f"{ERROR_PREFIX} 计算失败（{text}；日志: {log}） / "
                    f"calculation failed ({text}; log: {log})"
                ]
            ]

    return guarded


def locate_setting(record: ErrorRecord, tables: Sequence[Table] = ()) -> str:
    """``tblX row 3, column`` (row counted from the first data row, as on the sheet): the
    record's table by its Excel name (``tables`` first, then the catalog's)."""
    known = {t.key: t for t in (*CATALOG.tables.values(), *tables)}
    table = known[record.table].name if record.table in known else record.table
    column = f", {record.column}" if record.column else ""
    return f"{table} row {record.row + 1}{column}"


def language_of(rows: Block | None, table: Table) -> str:
    if not rows:
        return "en"
    zh = {normalise_header(h) for h in table.headers("zh")}
    en = {normalise_header(h) for h in table.headers("en")}
    seen = [normalise_header(h) for h in rows[0] if not is_blank(h)]
    return "zh" if sum(h in zh - en for h in seen) > sum(h in en - zh for h in seen) else "en"


def block(frame: pd.DataFrame, table: Table, lang: str) -> Block:
    """A table's header row and its rows, with blanks for NaN (Excel never sees NaN)."""
    values = frame.reindex(columns=table.keys).to_numpy(dtype=object)
    cells = [[plain(v) for v in row] for row in values]
    return [table.headers(lang), *cells]


def plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return float(value) + 0.0 if np.isfinite(value) else ""
    if isinstance(value, np.integer):
        return int(value)
    return value


def number(value: Any, what_zh: str, what_en: str) -> float:
    """A finite number from a cell (the one cell parser: ``15%``, ``1,234``, ``６.５``)."""
    parsed = parse.parse_number(scalar(value))
    if parsed is None:
        raise InputError(
            f"{what_zh}应为数字: '{scalar(value)}'",
            f"{what_en} must be a number: '{scalar(value)}'",
        )
    return parsed


def optional_number(value: Any, default: float | None) -> float | None:
    value = scalar(value)
    return default if is_blank(value) else number(value, "参数", "argument")


def year_of(value: Any) -> int:
    year = number(value, "计划年度", "plan year")
    if not 2000 <= year <= 2100:
        raise InputError(f"计划年度不合理: {year:g}", f"plan year out of range: {year:g}")
    return int(year)


def record_text(errors: pd.DataFrame) -> str:
    return "; ".join(f"{r.zh} / {r.en}" for r in records(errors))


def regions(year: int) -> pd.Series:
    """Region of each market (``MX`` -> ``LATAM``) on 1 January of ``year``."""
    return market_regions(date(year, 1, 1))


def out_table(key: str, zh: str, en: str, columns: Sequence[tuple[str, str, str]]) -> Table:
    """An output block's columns (key, zh header, en header); never registered as a sheet table."""
    return Table(key, "", zh, en, tuple(Column(k, z, e, Kind.TEXT) for k, z, e in columns))


def error_rows(errors: pd.DataFrame, width: int, tables: Sequence[Table] = ()) -> Block:
    """One ``#XLPLAN!`` row per error record, padded to the block's width (``tables``: argument
    tables that are not the catalog's, so their records name them)."""
    return [
        [f"{ERROR_PREFIX} {format_error(r, 'both', lambda rec: locate_setting(rec, tables))}"]
        + [""] * (width - 1)
        for r in records(errors)
    ]


def text_arg(value: Any) -> str:
    value = scalar(value)
    return "" if is_blank(value) else str(value).strip()


def fx_table(fx: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The FX rates of a ``tblFX[#All]`` argument (the shipped default rates without one) and
    the table's error records."""
    rates, errors = read_fx_table(table_of(fx, FX))
    return (reference.default_fx() if rates is None else rates), errors


def reporting(currency: Any) -> str:
    """The reporting currency argument, upper case; CNY when blank."""
    return text_arg(currency).upper() or "CNY"
