"""An in-memory stand-in for the part of xlwings' object model the live port and ribbon use.

It follows xlwings' documented API (docs.xlwings.org, "Python API"), nothing more:

- ``Book``: ``.name``, ``.sheets``, ``.app``
- ``App``: ``.status_bar``, ``.screen_updating``, ``.alert(prompt, title, buttons, mode,
  callback)``, ``.books.open(fullname)``
- ``Sheets``: iteration, ``[index]`` (negative too), ``[name]``, ``.add(name, before, after)``
- ``Sheet``: ``.name``, ``.tables``, ``.range(cell1, cell2=None)`` (``"A1"`` or ``(row, col)``),
  ``.used_range``
- ``Tables``: iteration, ``[name]``, ``.add(source=Range, name=...)``
- ``Table``: ``.name``, ``.parent``, ``.range``, ``.header_row_range``, ``.data_body_range``
  (None when the table has no data rows), ``.update(df, index=False)``, ``.resize(range)``
- ``Range``: ``.row``, ``.column``, ``.shape``, ``.last_cell``, ``.resize(row_size,
  column_size)``, ``.insert(shift="down")``, ``.delete(shift="up")`` (Excel refuses to move
  part of a table, and so does the double), ``.options(ndim=..., index=..., header=...)``,
  ``.value`` (get: a scalar for one cell, a list for one row or column, a list of lists
  otherwise, always 2-D with ``ndim=2``; set: a scalar, a list or list of lists, or a
  DataFrame written with its header and, unless ``index=False``, its index),
  ``.clear_contents()``

``Table.update`` does what its documentation says: the header row becomes the DataFrame's
columns, the body its rows, and the table is resized to them; an empty DataFrame leaves one
blank row and one column, as in xlwings. Cells the table no longer covers are cleared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

Cell = tuple[int, int]


def _parse_ref(ref: str) -> Cell:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref.upper())
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


class Range:
    def __init__(self, sheet: Sheet, top: Cell, bottom: Cell, **options: Any) -> None:
        self.sheet = sheet
        self.top, self.bottom = top, bottom
        self._options = options

    @property
    def row(self) -> int:
        return self.top[0]

    @property
    def column(self) -> int:
        return self.top[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom[0] - self.top[0] + 1, self.bottom[1] - self.top[1] + 1

    @property
    def last_cell(self) -> Range:
        return Range(self.sheet, self.bottom, self.bottom)

    def resize(self, row_size: int | None = None, column_size: int | None = None) -> Range:
        rows, cols = self.shape
        rows = rows if row_size is None else row_size
        cols = cols if column_size is None else column_size
        return Range(self.sheet, self.top, (self.top[0] + rows - 1, self.top[1] + cols - 1))

    def options(self, **options: Any) -> Range:
        return Range(self.sheet, self.top, self.bottom, **{**self._options, **options})

    def insert(self, shift: str, copy_origin: str = "format_from_left_or_above") -> None:
        """Cells move down (``shift="down"``) by the range's height; so do whole tables below."""
        assert shift == "down", "the double only shifts down"
        self._shift(self.shape[0])

    def delete(self, shift: str | None = None) -> None:
        """Cells below move up by the range's height (``shift="up"``)."""
        assert shift == "up", "the double only shifts up"
        self.clear_contents()
        self._shift(-self.shape[0])

    def _shift(self, n: int) -> None:
        (r1, c1), (r2, c2) = self.top, self.bottom
        start = r1 if n > 0 else r2 + 1
        for table in self.sheet.tables:
            (tr1, tc1), (tr2, tc2) = table.top, table.bottom
            if tc2 < c1 or tc1 > c2 or tr2 < r1:
                continue  # beside or above: untouched
            if tr1 < start or tc1 < c1 or tc2 > c2:
                raise ValueError("Excel: this operation would move part of a table")
            table.top, table.bottom = (tr1 + n, tc1), (tr2 + n, tc2)
        moved = {
            (r + n, c): v for (r, c), v in self.sheet.cells.items() if r >= start and c1 <= c <= c2
        }
        for r, c in list(self.sheet.cells):
            if r >= start and c1 <= c <= c2:
                del self.sheet.cells[(r, c)]
        self.sheet.cells.update(moved)

    def clear_contents(self) -> None:
        for r in range(self.top[0], self.bottom[0] + 1):
            for c in range(self.top[1], self.bottom[1] + 1):
                self.sheet.cells.pop((r, c), None)

    @property
    def value(self) -> Any:
        rows, cols = self.shape
        grid = [
            [self.sheet.cells.get((self.top[0] + i, self.top[1] + j)) for j in range(cols)]
            for i in range(rows)
        ]
        if self._options.get("ndim") == 2:
            return grid
        if rows == 1 and cols == 1:
            return grid[0][0]
        if rows == 1:
            return grid[0]
        if cols == 1:
            return [r[0] for r in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        if isinstance(data, pd.DataFrame):
            frame = data.reset_index() if self._options.get("index", True) else data
            rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
            if self._options.get("header", True):
                rows = [list(frame.columns), *rows]
        elif isinstance(data, list | tuple):
            rows = (
                [list(r) for r in data]
                if data and isinstance(data[0], list | tuple)
                else [list(data)]
            )
        else:
            rows = [[data]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = (self.top[0] + i, self.top[1] + j)
                if v is None:
                    self.sheet.cells.pop(cell, None)
                else:
                    self.sheet.cells[cell] = v

    @property
    def formula(self) -> Any:
        """As xlwings: a cell's formula (a constant as text, "" when empty) as a string; a
        larger range's as a tuple of row tuples."""
        rows, cols = self.shape
        grid = tuple(
            tuple(
                _formula_text(self.sheet.cells.get((self.top[0] + i, self.top[1] + j)))
                for j in range(cols)
            )
            for i in range(rows)
        )
        return grid[0][0] if rows == 1 and cols == 1 else grid

    @formula.setter
    def formula(self, text: str) -> None:
        self.value = text

    formula2 = formula


def _formula_text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass
class Table:
    name: str
    parent: Sheet
    top: Cell
    bottom: Cell

    @property
    def range(self) -> Range:
        return Range(self.parent, self.top, self.bottom)

    @property
    def header_row_range(self) -> Range:
        return Range(self.parent, self.top, (self.top[0], self.bottom[1]))

    @property
    def data_body_range(self) -> Range | None:
        if self.bottom[0] == self.top[0]:
            return None
        return Range(self.parent, (self.top[0] + 1, self.top[1]), self.bottom)

    def resize(self, range: Range) -> None:  # noqa: A002  (xlwings' parameter name)
        self.top, self.bottom = range.top, range.bottom

    def update(self, data: pd.DataFrame, index: bool = True) -> Table:
        if not isinstance(data, pd.DataFrame):
            raise TypeError("Currently, only pandas DataFrames are supported by update")
        old = self.range
        frame = data.reset_index() if index else data
        # as xlwings: an empty DataFrame (no rows or no columns) leaves one row, one column
        rows = max(len(frame), 1)
        cols = 1 if frame.empty else len(frame.columns)
        old.clear_contents()
        self.resize(old.resize(rows + 1, cols))
        self.header_row_range.value = list(frame.columns)
        self.range.resize(rows + 1).options(index=False).value = frame
        return self


class Tables:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self._items: list[Table] = []

    def __iter__(self) -> Iterator[Table]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, name: str) -> Table:
        for t in self._items:
            if t.name.casefold() == name.casefold():
                return t
        raise KeyError(name)

    def add(self, source: Range | None = None, name: str | None = None, **_: Any) -> Table:
        if not isinstance(source, Range):
            raise TypeError("'source' must be a Range")
        table = Table(name or f"Table{len(self._items) + 1}", self.sheet, source.top, source.bottom)
        self._items.append(table)
        return table


@dataclass
class Sheet:
    name: str
    book: Book
    cells: dict[Cell, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables = Tables(self)

    def range(self, cell1: str | Cell, cell2: str | Cell | None = None) -> Range:
        top = _parse_ref(cell1) if isinstance(cell1, str) else cell1
        bottom = top if cell2 is None else (_parse_ref(cell2) if isinstance(cell2, str) else cell2)
        return Range(self, top, bottom)

    def __getitem__(self, ref: str) -> Range:
        return self.range(ref)

    @property
    def used_range(self) -> Range:
        if not self.cells:
            return self.range((1, 1))
        return self.range((1, 1), (max(r for r, _ in self.cells), max(c for _, c in self.cells)))


class Sheets:
    def __init__(self, book: Book) -> None:
        self.book = book
        self._items: list[Sheet] = []

    def __iter__(self) -> Iterator[Sheet]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, key: int | str) -> Sheet:
        if isinstance(key, int):
            return self._items[key]
        for s in self._items:
            if s.name.casefold() == key.casefold():
                return s
        raise KeyError(key)

    def add(
        self, name: str | None = None, before: Sheet | None = None, after: Sheet | None = None
    ) -> Sheet:
        sheet = Sheet(name or f"Sheet{len(self._items) + 1}", self.book)
        if after is not None:
            self._items.insert(self._items.index(after) + 1, sheet)
        elif before is not None:
            self._items.insert(self._items.index(before), sheet)
        else:
            self._items.insert(0, sheet)  # Excel adds before the active sheet
        return sheet


class Books:
    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, fullname: str, **_: Any) -> Book:
        self.opened.append(fullname)
        return Book(fullname.rsplit("/", 1)[-1])


@dataclass
class App:
    status_bar: str | bool = False
    screen_updating: bool = True
    alerts: list[dict[str, Any]] = field(default_factory=list)
    status_history: list[str | bool] = field(default_factory=list)
    books: Books = field(default_factory=Books)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "status_bar" and "status_history" in self.__dict__:
            self.status_history.append(value)
        super().__setattr__(key, value)

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"


class Book:
    def __init__(self, name: str = "Book1.xlsx", app: App | None = None) -> None:
        self.name = name
        self.app = app or App()
        self.sheets = Sheets(self)


def book_from_file(path: Any) -> Book:
    """A double holding the cell values and Excel Tables of a workbook file (via openpyxl)."""
    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries

    wb = load_workbook(path, data_only=True)
    book = Book(str(getattr(path, "name", "plan.xlsx")))
    for ws in wb.worksheets:
        sheet = book.sheets.add(ws.title, after=book.sheets[-1] if len(book.sheets) else None)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.cells[(cell.row, cell.column)] = cell.value
        for name, obj in ws.tables.items():
            ref = obj.ref if hasattr(obj, "ref") else str(obj)
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            sheet.tables.add(source=sheet.range((min_row, min_col), (max_row, max_col)), name=name)
    return book
