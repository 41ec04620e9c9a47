"""Render primitives: how XLPlan draws a sheet with XlsxWriter.

The cell formats of a workbook (:class:`Formats`), a table with its bilingual sub-header and
validation (:func:`write_table`), a titled sheet of tables (:func:`write_tables_sheet`), the
hidden Lists sheet behind every validation list, page setup, and the anchor of a live UDF block.
Capabilities draw their sheets with these; nothing here knows a capability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from xlplan import reference
from xlplan.core import parse
from xlplan.core.errors import Lang, Message
from xlplan.workbook import widths
from xlplan.workbook.package.sheetdata import CellColumn, RowBlock, column_name
from xlplan.workbook.relink import addin_probe
from xlplan.workbook.schema import FORMATS, NUMERIC_KINDS, Column, Kind, Sheet, Table

TEMPLATE_DATE = datetime(2026, 11, 1)
FIRST_DATA_ROWS = 500  # validation and conditional formats cover this many rows below a header
WRAP_WIDTH = 36  # text columns at least this wide wrap instead of spilling over their row
PRINT_SCALE = 80  # percent: the smallest a sheet is printed (11-point text prints at 8.8)
PRINTABLE_PIXELS = 1045  # A4 landscape less 0.4-inch margins, at 96 pixels an inch
PRINT_SLACK = 0.95  # room for rounding: a page never ends in a clipped column
DEFAULT_WIDTH = 8.43
LABEL_KINDS = frozenset({Kind.TEXT, Kind.CODE, Kind.MONTH, Kind.DATE, Kind.INT})
MAX_LABEL_COLUMNS = 3
MAX_LABEL_SHARE = 0.4
ADDIN_NOT_LOADED = Message(
    "未加载 XLPlan 加载项（Windows：xlplan addin install）",
    "XLPlan add-in not loaded (Windows: xlplan addin install)",
)
ADDIN_NOT_BOUND = Message(
    "XLPlan 加载项已加载，但公式未绑定：请点 XLPlan 选项卡上的“修复公式链接”"
    "（macOS 没有 XLP_ 函数，请用按钮）",
    "XLPlan add-in loaded but formulas not bound: click Relink on the XLPlan tab "
    "(macOS has no XLP_ functions: use the buttons)",
)
ADDIN_MESSAGE = ADDIN_NOT_LOADED.both
"""What an add-in formula's cell shows before Excel first calculates it (its cached value)."""

NAVY = "#1F3864"
INPUT_FILL = "#FFF9E6"
OUTPUT_FILL = "#EAF1FB"
BAD_FILL = "#F8D7DA"
BAD_TEXT = "#9C0006"
GOOD_FILL = "#E2F0D9"
GREY = "#6B7280"

INPUTS = Message("输入", "inputs")
"""The legend beside the yellow input tables."""

LISTS_SHEET = Sheet(
    "lists",
    "列表",
    "Lists",
    owned=True,
    note=Message(
        "下拉列表的选项（市场、渠道、币种等代码）。",
        "The drop-down lists' choices (market, channel, currency codes and more).",
    ),
)
"""The hidden sheet holding every validation list (one column per list, a defined name each)."""


def list_name(key: str) -> str:
    """The defined name of a validation list: ``markets`` -> ``lstMarkets``."""
    return "lst" + "".join(part.capitalize() for part in key.split("_"))


@dataclass
class Formats:
    """The cell formats one workbook uses, created once per workbook.

    With ``rows`` set (a list), tables' data rows are not written through XlsxWriter but
    collected there as :class:`~xlplan.workbook.package.sheetdata.RowBlock`, for the package
    writer to write straight as XML (XlsxWriter takes ~30 µs a cell); the sheet still gets
    its table, formats, validation and conditional formats from XlsxWriter.
    """

    wb: Any
    rows: list[RowBlock] | None = None
    widths: dict[tuple[str, int], float] = field(default_factory=dict)
    """The widest each sheet's column has been fitted to: tables stacked in one column share it."""
    label_columns: dict[str, int] = field(default_factory=dict)
    """Per sheet, the leading label columns of its first table (repeated on printed pages)."""

    def fit_column(self, ws: Any, col: int, width: float, cell_format: Any = None) -> None:
        """Make column ``col`` of ``ws`` at least ``width`` wide (never narrower than a table
        above it already needed)."""
        key = (ws.get_name(), col)
        width = max(width, self.widths.get(key, 0.0))
        self.widths[key] = width
        ws.set_column(col, col, width, cell_format)

    def __post_init__(self) -> None:
        add = self.wb.add_format
        self.title = add({"bold": True, "font_size": 16, "font_color": NAVY})
        self.subtitle = add({"italic": True, "font_size": 10, "font_color": GREY})
        self.note = add({"font_size": 10, "font_color": GREY, "text_wrap": False})
        self.note_wrap = add(
            {"font_size": 10, "font_color": GREY, "text_wrap": True, "valign": "top"}
        )
        self.section = add({"bold": True, "font_size": 12, "font_color": NAVY})
        self.sub_header = add(
            {
                "italic": True,
                "font_size": 9,
                "font_color": GREY,
                "text_wrap": True,
                "valign": "bottom",
                "bottom": 1,
                "bottom_color": "#D0D7E5",
            }
        )
        self.input_legend = add(
            {"bg_color": INPUT_FILL, "border": 1, "border_color": "#E5D9B6", "font_size": 9}
        )
        self.output_legend = add(
            {"bg_color": OUTPUT_FILL, "border": 1, "border_color": "#C5D3EA", "font_size": 9}
        )
        self.bad = add({"bg_color": BAD_FILL, "font_color": BAD_TEXT})
        self.good = add({"bg_color": GOOD_FILL})
        self.error_text = add({"font_color": BAD_TEXT, "font_size": 9})
        header = {
            "bold": True,
            "font_color": "#FFFFFF",
            "text_wrap": True,
            "valign": "vcenter",
            "border": 1,
            "border_color": "#FFFFFF",
        }
        self.header = add({**header, "bg_color": NAVY})
        self.output_header = add({**header, "bg_color": "#2F5597"})
        cell = {"border": 1, "border_color": "#E3E6EC"}
        self.kinds: dict[Kind, Any] = {}
        self.input_kinds: dict[Kind, Any] = {}
        self.output_kinds: dict[Kind, Any] = {}
        for kind in Kind:
            spec: dict[str, Any] = dict(cell)
            fmt = FORMATS.get(kind)
            if fmt:
                spec["num_format"] = fmt
            self.kinds[kind] = add(spec)
            self.input_kinds[kind] = add({**spec, "bg_color": INPUT_FILL})
            self.output_kinds[kind] = add({**spec, "bg_color": OUTPUT_FILL})
        self.addin = add({"italic": True, "font_color": GREY, "bg_color": OUTPUT_FILL})
        wrap = {**cell, "text_wrap": True, "valign": "top", "font_size": 9}
        self.wrap_input = add({**wrap, "bg_color": INPUT_FILL})
        self.wrap_output = add({**wrap, "bg_color": OUTPUT_FILL})
        self.whole_money = add({"num_format": "#,##0;[Red]-#,##0"})


def column_letters(col: int) -> str:
    """A 0-based column's letters: 0 -> ``A``, 27 -> ``AB``."""
    return column_name(col + 1)


def cell_ref(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    """A 0-based cell's A1 reference, ``$`` where absolute: (0, 1, True, True) -> ``$B$1``.
    XlsxWriter's ``xl_rowcol_to_cell`` does the same, but importing it imports all of
    XlsxWriter (~0.04 s), which only a template build needs."""
    return f"{'$' if col_abs else ''}{column_letters(col)}{'$' if row_abs else ''}{row + 1}"


def new_workbook(target: str | BinaryIO) -> Any:
    """An XlsxWriter workbook with fixed document properties (reproducible builds).

    Text is never turned into something else: XlsxWriter's ``write()`` (which ``add_table``
    data goes through) would make ``=...`` a live formula and ``http://...`` a link; XLPlan's
    formulas are written explicitly with ``write_formula``.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        target,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties(
        {"title": "XLPlan", "author": "XLPlan", "company": "XLPlan", "created": TEMPLATE_DATE}
    )
    wb.set_calc_mode("auto")
    return wb


def write_value(ws: Any, row: int, col: int, value: object, cell_format: Any = None) -> None:
    """One cell by its type: text always with ``write_string`` (user text never becomes a
    formula or a link), numbers, booleans and dates with theirs, blanks keep the format."""
    value = _cell_value(value)
    if value is None or value == "":
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, value, cell_format)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, cell_format)
    elif isinstance(value, datetime | date):
        ws.write_datetime(row, col, value, cell_format)
    else:
        ws.write_string(row, col, str(value), cell_format)


def _cell_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        v = value.item()
        return None if isinstance(v, float) and not np.isfinite(v) else v
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def sheet_values(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns as the sheet holds them: numbers as numbers (never ``'4826000.0'`` as
    text, which SUM skips), flags as TRUE/FALSE, dates as dates, text as text. Cells that do
    not parse as their column's kind stay as they were, for the reader to report."""
    out = {}
    for col in table.columns:
        values = frame[col.key] if col.key in frame.columns else pd.Series(None, index=frame.index)
        if _typed(col, values):  # already as the sheet holds it (a computed column)
            out[col.key] = values
            continue
        if col.kind not in _PARSED_KINDS:  # text as it is (Arrow-backed text stays so)
            out[col.key] = values
            continue
        values = values.astype(object)
        if col.kind in NUMERIC_KINDS:
            numbers, bad = parse.parse_numbers(values)
            if not bad.any():  # kept as floats: written a column at a time, not cell by cell
                out[col.key] = pd.Series(numbers, index=frame.index, dtype=np.float64)
                continue
            typed = pd.Series(numbers, index=frame.index, dtype=object)
            typed = typed.where(~np.isnan(numbers), None)
            out[col.key] = typed.where(~bad, values)
        elif col.kind is Kind.BOOL:
            flags, bad = parse.parse_bools(values)
            typed = pd.Series([None if np.isnan(f) else bool(f) for f in flags], index=frame.index)
            out[col.key] = typed.where(~bad, values)
        elif col.kind is Kind.DATE:
            days, bad = parse.parse_dates(values)
            typed = pd.Series(pd.to_datetime(days), index=frame.index, dtype=object)
            out[col.key] = typed.where(~bad, values)
        elif col.kind is Kind.MONTH:  # a month alone is a number, a year-month "2027-03"
            months, bad = parse.plan_months(values)
            shown = [int(m) if m.isdigit() else (m or None) for m in months]
            out[col.key] = pd.Series(shown, index=frame.index, dtype=object).where(~bad, values)
    return pd.DataFrame(out, index=frame.index)


_PARSED_KINDS = NUMERIC_KINDS | {Kind.BOOL, Kind.DATE, Kind.MONTH}


def _typed(col: Column, values: pd.Series) -> bool:
    dtype = values.dtype
    if col.kind in NUMERIC_KINDS:
        return bool(pd.api.types.is_numeric_dtype(dtype)) and not pd.api.types.is_bool_dtype(dtype)
    if col.kind is Kind.BOOL:
        return bool(pd.api.types.is_bool_dtype(dtype))
    if col.kind is Kind.DATE:
        return bool(pd.api.types.is_datetime64_any_dtype(dtype))
    return False


def write_table(
    wb: Any,
    ws: Any,
    fmt: Formats,
    table: Table,
    frame: pd.DataFrame | None,
    lang: str,
    top: int,
    left: int = 0,
    *,
    output: bool = False,
    sub_header: bool = True,
    validation: bool = True,
) -> tuple[int, int]:
    """Write ``table`` with its header at row ``top`` (0-based), sub-header above it.

    The sub-header row (``top - 1``) carries the other language's header and the unit, so every
    template is bilingual while the Table's own headers stay in one language. Returns the
    (header row, last data row).
    """
    other = Lang(lang).other
    rows = 0 if frame is None else len(frame)
    last = top + max(rows, 1)
    ws.set_row(top, 30)
    if sub_header:
        ws.set_row(top - 1, 26)
    kinds = fmt.output_kinds if output else fmt.input_kinds
    head = fmt.output_header if output else fmt.header
    columns = []
    wrap = fmt.wrap_output if output else fmt.wrap_input
    if frame is not None and rows:
        frame = sheet_values(table, frame)
    wrapped: list[tuple[str, float]] = []
    if left == 0 and ws.get_name() not in fmt.label_columns:
        labels = 0
        while labels < min(MAX_LABEL_COLUMNS, len(table.columns) - 1):
            if table.columns[labels].kind not in LABEL_KINDS:
                break
            labels += 1
        fmt.label_columns[ws.get_name()] = labels
    for j, col in enumerate(table.columns):
        values = frame[col.key] if frame is not None and rows else None
        unit = col.unit(other)
        sub = col.header(other) + (f" [{unit}]" if unit else "")
        width, too_long = widths.column_width(
            col, col.header(lang), sub if sub_header else "", values
        )
        long_text = col.kind is Kind.TEXT and (col.width >= WRAP_WIDTH or too_long)
        if long_text:
            wrapped.append((col.key, width))
        spec: dict[str, Any] = {
            "header": col.header(lang),
            "format": wrap if long_text else kinds[col.kind],
            "header_format": head,
        }
        columns.append(spec)
        fmt.fit_column(ws, left + j, width)
        if sub_header:
            ws.write_string(top - 1, left + j, sub, fmt.sub_header)
    options: dict[str, Any] = {
        "name": table.name,
        "columns": columns,
        "style": "Table Style Medium 2" if output else "Table Style Light 9",
    }
    bulk = fmt.rows is not None and frame is not None and rows > 1
    # XlsxWriter records every cell of a table's range (an overlap check): a bulk table is
    # declared with one data row here and given its full range when it is transplanted.
    ws.add_table(top, left, top + 1 if bulk else last, left + len(table.columns) - 1, options)
    if frame is not None and rows:
        if fmt.rows is not None:
            heights = _wrapped_heights(frame, wrapped) if wrapped else None
            fmt.rows.append(
                RowBlock(
                    ws.get_name(),
                    top + 2,
                    left + 1,
                    [
                        CellColumn(frame[key], _xf(spec["format"]))
                        for key, spec in zip(table.keys, columns, strict=True)
                    ],
                    heights=heights,
                    table=table.name,
                )
            )
        else:
            _write_rows(ws, frame[table.keys], top + 1, left, [c["format"] for c in columns])
            if wrapped:
                for i, height in enumerate(_wrapped_heights(frame, wrapped)):
                    if np.isfinite(height):
                        ws.set_row(top + 1 + i, height)
    if validation and not output:
        _validate(ws, table, lang, top + 1, top + FIRST_DATA_ROWS, left)
    return top, last


def _xf(cell_format: Any) -> int:
    """The cellXfs index XlsxWriter gives ``cell_format`` (0 for none): data rows written as
    XML refer to it, so the format is registered even though no cell is written with it."""
    return 0 if cell_format is None else int(cell_format._get_xf_index())


def _write_rows(ws: Any, frame: pd.DataFrame, first: int, left: int, formats: list[Any]) -> None:
    """A table's data cells through XlsxWriter, each by its type (text always as text)."""
    for i, rec in enumerate(frame.itertuples(index=False, name=None)):
        for j, value in enumerate(rec):
            write_value(ws, first + i, left + j, value, formats[j])


def _wrapped_heights(frame: pd.DataFrame, wrapped: Sequence[tuple[str, float]]) -> np.ndarray:
    """Per row, the height its wrapped text needs (NaN where one line does): neither Excel nor
    LibreOffice grows rows written by XlsxWriter, so estimate the lines each long text needs
    in its column's width (CJK characters count double)."""
    lines = np.ones(len(frame))
    for key, width in wrapped:
        per_line = max(width * 1.15, 1.0)  # 9-point text fits ~1.15 characters per unit
        lines = np.maximum(lines, np.ceil(_text_widths(frame[key]) / per_line))
    return np.where(lines > 1, 12.5 * np.minimum(lines, 8), np.nan)


def _text_widths(values: pd.Series) -> np.ndarray:
    """Per cell, its text's width in characters, CJK characters counting double; measured
    once per distinct text (a results table repeats the same few messages)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).fillna("").astype(str)
    shown = text.str.len() + text.str.count(widths.WIDE.pattern)
    return np.append(shown.to_numpy(dtype=float), 0.0)[codes]


def _validate(ws: Any, table: Table, lang: str, first: int, last: int, left: int) -> None:
    for j, col in enumerate(table.columns):
        spec = _validation_spec(col, lang)
        if spec:
            ws.data_validation(first, left + j, last, left + j, spec)


def _validation_spec(col: Column, lang: str) -> dict[str, Any] | None:
    title = col.header(lang)[:31]
    helptext = col.help(lang)
    base: dict[str, Any] = {"input_title": title, "error_title": title}
    if helptext:
        base["input_message"] = helptext[:250]
    if col.choices:
        lenient = col.choices == "channels"
        return {
            **base,
            "validate": "list",
            "source": f"={list_name(col.choices)}",
            "error_type": "information" if lenient else "stop",
            "error_message": ("请从列表中选择 / choose from the list")[:250],
        }
    if col.kind is Kind.BOOL:
        return {**base, "validate": "list", "source": ["TRUE", "FALSE"]}
    if col.kind in NUMERIC_KINDS and (col.minimum is not None or col.maximum is not None):
        lo = -1e12 if col.minimum is None else col.minimum
        hi = 1e12 if col.maximum is None else col.maximum
        return {
            **base,
            "validate": "decimal",
            "criteria": "between",
            "minimum": lo,
            "maximum": hi,
            "error_message": f"{col.zh}应 {col.range_text.zh} / "
            f"{col.en} must be {col.range_text.en}"[:250],
        }
    return None


def page_setup(
    ws: Any,
    fmt: Formats,
    *,
    header_row: int | None = None,
    breaks_before: Sequence[int] = (),
    one_page_wide: bool = False,
) -> None:
    """Print legibly: A4 landscape, the header rows repeated on every page.

    No print area is set: Excel prints the used range, which grows with the rows users add and
    with the rows a run writes (a print area is a workbook-level name, fixed when the template
    was made).

    A sheet that fits one page wide at :data:`PRINT_SCALE` or more is shrunk to one page wide.
    A wider one (Landed Cost's 48 input columns) is not shrunk into an unreadable strip: it
    prints at :data:`PRINT_SCALE`, broken between columns into pages side by side, its leading
    label columns (SKU, market, ...) repeated on each page so every page says which line a
    figure belongs to. ``breaks_before`` starts a page at those columns (a live result block
    beside its inputs). A dashboard (``one_page_wide``) is read as one picture: always one
    page wide.
    """
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.hide_gridlines(1)  # not printed
    if header_row is not None:
        ws.repeat_rows(header_row - 1, header_row)
    name = ws.get_name()
    columns = [c for (sheet, c) in fmt.widths if sheet == name]
    if not columns:
        ws.fit_to_pages(1, 0)
        return
    last = max(columns)
    pixels = [_column_pixels(fmt.widths.get((name, c), DEFAULT_WIDTH)) for c in range(last + 1)]
    page = PRINTABLE_PIXELS * 100 / PRINT_SCALE * PRINT_SLACK
    if one_page_wide or (sum(pixels) <= page and not breaks_before):
        ws.fit_to_pages(1, 0)
        return
    labels = fmt.label_columns.get(name, 0)
    while labels and sum(pixels[:labels]) > page * MAX_LABEL_SHARE:
        labels -= 1  # the repeated labels leave most of each page to the figures
    repeated = sum(pixels[:labels])
    breaks: list[int] = []
    used = repeated
    forced = set(breaks_before)
    for c in range(labels, last + 1):
        if c in forced or (used + pixels[c] > page and used > repeated):
            breaks.append(c)
            used = repeated
        used += pixels[c]
    ws.set_print_scale(PRINT_SCALE)
    ws.set_v_pagebreaks(breaks)
    if labels:
        ws.repeat_columns(0, labels - 1)


def _column_pixels(width: float) -> int:
    """Excel's pixel width of a column ``width`` characters wide (Calibri 11, 96 dpi)."""
    return int(width * 7 + 5) if width >= 1 else int(width * 12)


NOTE_LINE = 13.5  # points: one line of 10-point text
NOTE_CHARACTERS = 1.1  # 10-point characters in one unit of column width
NOTE_MAX_WIDTH = 140.0  # column units of one printed page, the repeated labels left aside


def write_note(ws: Any, fmt: Formats, row: int, left: int, text: str, span: int) -> None:
    """A table's note on ``row`` above it, no wider than the table's ``span`` columns nor than
    a printed page: a longer note wraps over those columns (merged) and its row grows, instead
    of running past the table and off the page. Write it after the table, whose columns are
    then fitted."""
    if not text:
        return
    name = ws.get_name()
    width = 0.0
    columns = 0
    for j in range(span):
        column = fmt.widths.get((name, left + j), DEFAULT_WIDTH)
        if columns and width + column > NOTE_MAX_WIDTH:
            break
        width += column
        columns += 1
    lines = math.ceil(widths.display_width(text) / (width * NOTE_CHARACTERS))
    if lines <= 1 or columns == 1:
        ws.write_string(row, left, text, fmt.note)
        return
    ws.merge_range(row, left, row, left + columns - 1, text, fmt.note_wrap)
    ws.set_row(row, NOTE_LINE * lines)


def write_title(ws: Any, fmt: Formats, lang: Lang | str, heading: Message, note: Message) -> None:
    """The sheet's title in its language, the other language below it, and a one-line note."""
    lang = Lang(lang)
    ws.write_string(0, 0, heading.text(lang), fmt.title)
    ws.write_string(1, 0, heading.text(lang.other), fmt.subtitle)
    ws.write_string(2, 0, note.text(lang), fmt.note)
    ws.set_row(0, 24)


def aligned_left(first: Table, table: Table) -> int:
    """Where ``table`` starts below ``first`` on one sheet: a table that repeats a run of
    ``first``'s columns after a label (the Monthly Plan's total row: a label, then the months,
    quarters and year) lines up under them, its label in the column before; any other table
    starts in the first column."""
    keys = table.keys
    if table is first or len(keys) < 3 or keys[1] not in first.keys:
        return 0
    k = first.keys.index(keys[1])
    return k - 1 if k >= 1 and first.keys[k : k + len(keys) - 1] == keys[1:] else 0


def write_tables_sheet(
    wb: Any,
    fmt: Formats,
    sheet: Sheet,
    tables: Sequence[tuple[Table, pd.DataFrame | None]],
    lang: str,
    *,
    output: bool = True,
) -> Any:
    """A sheet of tables one below the other under a title.

    Output sheets (``output=True``) are the ones XLPlan owns and rewrites on every run; input
    sheets carry the yellow tables users fill, with validation.
    """
    ws = wb.add_worksheet(sheet.title(lang))
    write_title(ws, fmt, lang, sheet.heading, sheet.note)
    top = 5
    for i, (table, frame) in enumerate(tables):
        helptext = table.help(lang)
        if i:
            top += 1 if helptext else 0
            ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        left = aligned_left(tables[0][0], table)
        _, last = write_table(wb, ws, fmt, table, frame, lang, top, left, output=output)
        write_note(ws, fmt, top - 2, 0, helptext, left + len(table.columns))
        for key in ("contribution_margin",):
            if key in table.keys:
                j = left + table.keys.index(key)
                ws.conditional_format(
                    top + 1,
                    j,
                    last,
                    j,
                    {"type": "cell", "criteria": "<", "value": 0, "format": fmt.bad},
                )
        if "currency" in table.keys:
            money = [left + j for j, c in enumerate(table.columns) if c.kind is Kind.MONEY]
            format_money_by_currency(
                ws,
                fmt,
                left + table.keys.index("currency"),
                money,
                top + 1,
                max(last, top + FIRST_DATA_ROWS),
            )
        if "error" in table.keys:
            j = left + table.keys.index("error")
            ws.conditional_format(
                top + 1, j, last, j, {"type": "no_blanks", "format": fmt.error_text}
            )
        top = last + 5
    ws.freeze_panes(6, 0)
    ws.set_row(5, 30)
    # the header rows repeat on every page only where they head every row below them
    page_setup(ws, fmt, header_row=5 if len(tables) == 1 else None)
    return ws


def zero_decimal_currencies() -> list[str]:
    """Market currencies without a minor unit (JPY, KRW, CLP, VND, ...)."""
    ccy = reference.currencies()
    used = set(reference.market_history()["currency"])
    return sorted(c for c in used if c in ccy.index and ccy.loc[c, "minor_unit"] == 0)


def format_money_by_currency(
    ws: Any, fmt: Formats, currency_col: int, money_cols: Sequence[int], first: int, last: int
) -> None:
    """Show money without decimals on rows whose currency has no minor unit.

    One conditional format per column, keyed on the row's currency cell, so a mixed table shows
    EUR 12.34 and JPY 1,234 side by side.
    """
    codes = zero_decimal_currencies()
    if not codes:
        return
    ref = cell_ref(first, currency_col, col_abs=True)
    test = ",".join(f'{ref}="{c}"' for c in codes)
    for col in money_cols:
        ws.conditional_format(
            first,
            col,
            last,
            col,
            {"type": "formula", "criteria": f"=OR({test})", "format": fmt.whole_money},
        )


def write_udf_block(
    ws: Any, fmt: Formats, lang: str, col: int, top: int, call: str, columns: Sequence[Column]
) -> None:
    """A spilling UDF formula at (``top``, ``col``) with its columns' formats and bilingual
    sub-header, each column as wide as its headers; without the add-in the cell says so
    instead of ``#NAME?``."""
    other = Lang(lang).other
    fmt.fit_column(ws, col - 1, 2)
    for j, c in enumerate(columns):
        unit = c.unit(other)
        sub = c.header(other) + (f" [{unit}]" if unit else "")
        width, _ = widths.column_width(c, c.header(lang), sub, None)
        fmt.fit_column(ws, col + j, width, fmt.output_kinds[c.kind])
        ws.write_string(top - 1, col + j, sub, fmt.sub_header)
    write_udf_anchor(ws, fmt, col, top, call)


def udf_formula(call: str) -> str:
    """The formula of a live UDF block: ``call``, or instead of ``#NAME?`` a sentence saying
    why not -- the add-in is not loaded in this Excel, or it is loaded but this formula is not
    bound to it (Relink re-enters the formulas).

    The add-in's own config sheet is probed with ``ISREF(INDIRECT(...))``: the reference
    resolves only while ``xlplan.xlam`` is open. The UDFs never return an Excel error value
    (problems come back as text), so ``IFERROR`` sees only a call that did not bind.
    """
    return (
        f"=IFERROR({call},"
        f'IF(ISREF(INDIRECT("{addin_probe()}")),"{ADDIN_NOT_BOUND.both}","{ADDIN_NOT_LOADED.both}"))'
    )


def write_udf_anchor(ws: Any, fmt: Formats, col: int, top: int, call: str) -> None:
    """A live UDF block's anchor: its name above, and the spilling formula (:func:`udf_formula`),
    which says what is missing instead of ``#NAME?``."""
    ws.write_string(top - 2, col, call.split("(")[0] + " →", fmt.section)
    ws.write_dynamic_array_formula(top, col, top, col, udf_formula(call), fmt.addin, ADDIN_MESSAGE)


def write_lists_sheet(wb: Any, lang: str, lists: Mapping[str, Sequence[str]]) -> None:
    """The hidden Lists sheet: one column per validation list, each with its defined name."""
    ws = wb.add_worksheet(LISTS_SHEET.title(lang))
    for j, (key, values) in enumerate(lists.items()):
        ws.write_string(0, j, key)
        for i, v in enumerate(values):
            ws.write_string(i + 1, j, v)
        col = column_letters(j)
        sheet = ws.get_name()
        last = max(len(values), 1) + 1
        wb.define_name(list_name(key), f"='{sheet}'!${col}$2:${col}${last}")
    ws.hide()
