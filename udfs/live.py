"""The live workbook port: actions read and write an open Excel workbook through xlwings.

:class:`LivePort` implements :class:`xlplan.plan.action.WorkbookPort` over an ``xlwings.Book``.
Tables are Excel Tables (ListObjects) found by name on any sheet (``tblLandedCost``); their
header row maps to column keys in either language, as in the file port. Output tables are
replaced with ``Table.update``; a missing one is created on the sheet XLPlan owns for it (the
sheet too, when missing). Only documented xlwings API is used: ``Book.sheets``,
``Sheet.tables``, ``Sheet.used_range``, ``Sheets.add``, ``Tables.add``, ``Table.update``,
``Table.header_row_range``, ``Table.data_body_range``, ``Range.options/value/row/column/resize``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlplan.actions import CATALOG
from xlplan.core.errors import ErrorRecord, InputError
from xlplan.workbook.io import column_letter, locate_cell
from xlplan.workbook.schema import Table, frame_from_rows, map_headers, missing_columns

FIRST_TABLE_ROW = 6  # header row of a table on a sheet XLPlan creates (as in the templates)
MAX_COLUMNS = 16_384  # Excel's last column (XFD): a range this wide is whole sheet rows


@dataclass(frozen=True)
class _Where:
    """Where a table sits: its sheet, header row and first column (1-based), column offsets."""

    sheet: str
    header_row: int
    first_col: int
    columns: dict[str, int] = field(default_factory=dict)

    def locate(self, record: ErrorRecord) -> str:
        return locate_cell(self.sheet, self.header_row, self.first_col, self.columns, record)


def book_lang(book: Any) -> str | None:
    """``zh`` or ``en`` when the book has XLPlan's sheets in that language, else None."""
    names = {sheet.name for sheet in book.sheets}
    for lang in ("zh", "en"):
        if names & {s.title(lang) for s in CATALOG.sheets.values()}:
            return lang
    return None


class LivePort:
    """The workbook port over an open workbook (an ``xlwings.Book``).

    Reads go to Excel each time (the user may have typed since), except for tables an earlier
    action of the same run wrote: those come back as written, as in the file port. Writes go
    to Excel at once.
    """

    def __init__(self, book: Any, lang: str | None = None) -> None:
        self.book = book
        self.lang = lang or book_lang(book) or "en"
        self.written: dict[str, pd.DataFrame] = {}
        self._where: dict[str, _Where] = {}

    # -- the port --------------------------------------------------------------------------

    def read_table(self, key: str) -> pd.DataFrame | None:
        if key in self.written:
            return self.written[key]
        table = CATALOG.tables[key]
        found = self._find(table)
        if found is None:
            return None
        sheet, xl_table = found
        header = _rows(xl_table.header_row_range)
        body = _rows(xl_table.data_body_range)
        rows = [header[0] if header else [], *body]
        where = self._remember(table, sheet.name, xl_table.header_row_range, rows[0])
        place = f"{where.sheet}!{column_letter(where.first_col)}{where.header_row}"
        problem = missing_columns(rows[0], table, place)
        if problem is not None:
            raise InputError(problem.zh, problem.en)
        return frame_from_rows(rows, table)

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        table = CATALOG.tables[key]
        found = self._find(table)
        if found is None:
            data = self._sheet_frame(table, frame, None)
            sheet, xl_table = self._create(table, data)
        else:
            sheet, xl_table = found
            header = _rows(xl_table.header_row_range)
            data = self._sheet_frame(table, frame, header[0] if header else None)
            owned = table.sheet in CATALOG.sheets and CATALOG.sheets[table.sheet].owned
            _update(sheet, xl_table, data, shift_rows=owned)
        self._remember(table, sheet.name, xl_table.header_row_range, list(data.columns))
        self.written[key] = frame

    def locate(self, record: ErrorRecord) -> str:
        where = self._where.get(record.table)
        if where is None and record.table in CATALOG.tables:
            found = self._find(CATALOG.tables[record.table])
            if found is not None:
                sheet, xl_table = found
                header = _rows(xl_table.header_row_range)
                table = CATALOG.tables[record.table]
                where = self._remember(
                    table, sheet.name, xl_table.header_row_range, header[0] if header else []
                )
        if where is None:
            return f"{record.table} row {record.row + 1}"
        return where.locate(record)

    def formulas(self) -> list[tuple[str, str, str]]:
        """Every formula cell as (sheet, cell, formula): the relink action's ``FormulaPort``.

        Reads ``Range.formula2`` (dynamic-array form, so a spilling UDF keeps spilling when
        written back) where xlwings has it, else ``Range.formula``, of each sheet's used range.
        """
        out: list[tuple[str, str, str]] = []
        for sheet in self.book.sheets:
            used = sheet.used_range
            grid = getattr(used, "formula2" if hasattr(used, "formula2") else "formula")
            if not isinstance(grid, list | tuple):  # one cell: xlwings gives the string
                grid = ((grid,),)
            top, left = int(used.row), int(used.column)
            for r, row in enumerate(grid):
                for c, text in enumerate(row if isinstance(row, list | tuple) else (row,)):
                    if isinstance(text, str) and text.startswith("="):
                        out.append((sheet.name, f"{column_letter(left + c)}{top + r}", text))
        return out

    def set_formula(self, sheet: str, cell: str, text: str) -> None:
        """Replace one cell's formula (``formula2`` where xlwings has it)."""
        rng = self.book.sheets[sheet].range(cell)
        setattr(rng, "formula2" if hasattr(rng, "formula2") else "formula", text)

    # -- helpers ---------------------------------------------------------------------------

    def _find(self, table: Table) -> tuple[Any, Any] | None:
        wanted = table.name.casefold()
        for sheet in self.book.sheets:
            for xl_table in sheet.tables:
                if str(xl_table.name).casefold() == wanted:
                    return sheet, xl_table
        return None

    def _remember(self, table: Table, sheet: str, header_range: Any, header: list[Any]) -> _Where:
        found, _ = map_headers(list(header), table)
        where = _Where(
            sheet,
            int(header_range.row),
            int(header_range.column),
            {k: i for i, k in found.items()},
        )
        self._where[table.key] = where
        return where

    def _sheet_frame(
        self, table: Table, frame: pd.DataFrame, header: list[Any] | None
    ) -> pd.DataFrame:
        """The frame as the sheet shows it: plain cell values under the table's own header.

        An existing table keeps its columns (``header``: a sheet may show one language's
        columns only); a new one gets every schema column, headed in the workbook's language.
        """
        if header is None:
            keys: list[str | None] = list(table.keys)
            texts = table.headers(self.lang)
        else:
            found, _ = map_headers(header, table)
            keys = [found.get(i) for i in range(len(header))]
            texts = ["" if h is None else str(h) for h in header]
        n = len(frame)
        columns = [
            [_cell(v) for v in frame[k]] if k is not None and k in frame.columns else [None] * n
            for k in keys
        ]
        rows = [list(r) for r in zip(*columns, strict=True)] if n else [[None] * len(keys)]
        # one blank row for an empty result: Table.update shrinks an empty DataFrame's table
        # to a single column
        return pd.DataFrame(rows, columns=texts, dtype=object)

    def _create(self, table: Table, data: pd.DataFrame) -> tuple[Any, Any]:
        owner = CATALOG.sheets.get(table.sheet)
        name = owner.title(self.lang) if owner else table.title(self.lang)
        titles = {owner.title(lang) for lang in ("zh", "en")} if owner else {name}
        sheet = next((s for s in self.book.sheets if s.name in titles), None)
        if sheet is None:
            sheet = self.book.sheets.add(name, after=self.book.sheets[-1])
            if owner is not None and owner.heading.zh:
                sheet.range("A1").value = owner.heading.text(self.lang)
            top = FIRST_TABLE_ROW
        else:
            top = int(sheet.used_range.last_cell.row) + 3
        title = sheet.range((top - 1, 1))
        title.value = table.title(self.lang)
        corner = sheet.range((top, 1))
        corner.options(index=False).value = data
        source = corner.resize(len(data) + 1, len(data.columns))
        return sheet, sheet.tables.add(source=source, name=table.name)


def _update(sheet: Any, xl_table: Any, data: pd.DataFrame, *, shift_rows: bool) -> None:
    """Replace a table's content. With ``shift_rows`` whole sheet rows are inserted below it
    before it grows and deleted after it shrinks, so the tables stacked below it on an owned
    sheet move with it instead of being overwritten (Excel refuses overlapping tables)."""
    body = xl_table.data_body_range
    old = 0 if body is None else int(body.shape[0])
    new = len(data)
    last = int(xl_table.range.last_cell.row)
    if shift_rows and new > old:
        sheet.range((last + 1, 1), (last + new - old, MAX_COLUMNS)).insert(shift="down")
    xl_table.update(data, index=False)
    if shift_rows and new < old:
        first_free = int(xl_table.range.last_cell.row) + 1
        sheet.range((first_free, 1), (last, MAX_COLUMNS)).delete(shift="up")


def _rows(rng: Any) -> list[list[Any]]:
    if rng is None:
        return []
    value = rng.options(ndim=2).value
    return [list(r) for r in value] if value else []


def _cell(value: object) -> object:
    """A value Excel can hold: None for blanks and NaN, plain Python numbers and datetimes."""
    if value is None or value is pd.NA or value is pd.NaT or value == "":
        return None  # Excel holds "" as an empty cell anyway
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date | str | int | float | bool):
        return value
    return str(value)
