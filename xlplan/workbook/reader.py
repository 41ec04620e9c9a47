"""Read only the tables an action asks for, straight from the sheet XML, without loading the
workbook.

The package is indexed first, from its small parts, each parsed without DTDs or entities
(:mod:`xlplan.workbook.package.limits`): the sheets (``xl/workbook.xml`` and its
relationships) and every Excel Table's name, sheet and range (the table parts). A table is
then read from its sheet by calamine (Rust; the sheet's XML is parsed once per sheet, only when
a table on it is asked for, in a worker thread that starts as soon as the sheet is known, so
parsing overlaps the rest of the run's start-up); only the table's rows and columns become
Python values. Nothing else of the workbook is loaded: no styles objects, no cells of other
sheets, no charts.

Measured on a 100,000-line plan (96 MB of Landed Cost sheet XML) on the shared 2-core machine:
calamine parses the sheet in ~1.7 s of CPU and hands over the table's cells in ~0.4 s, where
openpyxl's full load took 85 s of CPU and 2.5 GB (issue 15). Limits (part size, cells per
table) are checked before anything expands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xlplan.core.errors import FileRefused
from xlplan.workbook.package import (
    CT_TABLE,
    RT_SHARED_STRINGS,
    RT_STYLES,
    RT_WORKSHEET,
    Package,
    Workbook,
    read_rels,
)
from xlplan.workbook.package.limits import cells_over_limit
from xlplan.workbook.package.sheetdata import range_bounds
from xlplan.workbook.package.zip import parse_part
from xlplan.workbook.schema import Table, map_headers, normalise_header

__all__ = ["TableRange", "WorkbookReader", "range_bounds"]

HEADER_SEARCH_ROWS = 30  # a plain range's header is looked for in the sheet's first rows


@dataclass(frozen=True)
class TableRange:
    """Where an Excel Table sits: its sheet and its range (1-based, inclusive)."""

    name: str
    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int


Block = tuple[np.ndarray, str, int, int]
"""A table's cells (header row first), its sheet, header row and first column (1-based)."""


class WorkbookReader:
    """The tables of one workbook file, read on demand (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self.pkg = Package.load(path, "workbook")
        self.book = Workbook.read(self.pkg)
        self.sheet_names = [s.name for s in self.book.sheets]
        self._parts = {s.name: s.part for s in self.book.sheets if s.rel_type == RT_WORKSHEET}
        self.tables = self._index_tables()
        for rel_type in (RT_SHARED_STRINGS, RT_STYLES):
            rel = self.book.rel_of_type(rel_type)
            if rel is not None and self.pkg.has(rel.part):
                self.pkg.check(rel.part)
        self._calamine: Any = None
        self._sheets: dict[str, _SheetJob] = {}
        self._pool: Any = None

    def _index_tables(self) -> dict[str, TableRange]:
        out: dict[str, TableRange] = {}
        for sheet, part in self._parts.items():
            if not part or not self.pkg.has(part):
                continue
            for rel in read_rels(self.pkg, part):
                if rel.external or not self.pkg.has(rel.part):
                    continue
                if self.pkg.content_types.of(rel.part) != CT_TABLE:
                    continue
                root = parse_part(self.pkg, rel.part)
                name = root.get("displayName") or root.get("name") or ""
                try:
                    c1, r1, c2, r2 = range_bounds(root.get("ref", ""))
                except ValueError:
                    continue  # a table without a usable range is not one XLPlan can read
                out.setdefault(name.casefold(), TableRange(name, sheet, r1, c1, r2, c2))
        return out

    # ----------------------------------------------------------------------------------------

    def prefetch(self, tables: Iterable[Table], titles: Mapping[str, set[str]]) -> None:
        """Start parsing the sheets that hold ``tables`` in worker threads."""
        for table in tables:
            found = self.tables.get(table.name.casefold())
            if found is not None:
                self._sheet(found.sheet)
            else:
                for sheet in self._titled(titles.get(table.key, set())):
                    self._sheet(sheet)

    def _titled(self, titles: set[str]) -> list[str]:
        return [s for s in self._parts if normalise_header(s) in titles]

    def _workbook(self) -> Any:
        if self._calamine is None:
            from python_calamine import CalamineWorkbook

            try:
                self._calamine = CalamineWorkbook.from_path(str(self.path))
            except Exception as exc:  # calamine raises its own types for every kind of fault
                raise _unreadable(self.label, exc) from exc
        return self._calamine

    def _sheet(self, name: str) -> _SheetJob:
        job = self._sheets.get(name)
        if job is None:
            part = self._parts[name]
            self.pkg.check(part)
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                # One worker: calamine's workbook object serves one sheet at a time.
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="xlplan-sheet")
            job = _SheetJob(self._pool, self._workbook(), name, self.label)
            self._sheets[name] = job
        return job

    def cells(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> np.ndarray:
        """The cells of rows ``r1:r2``, columns ``c1:c2`` (1-based, inclusive) of ``sheet``,
        as a 2-D object array; blank cells are ``""``."""
        return self._sheet(sheet).cells(r1, c1, r2, c2)

    # ----------------------------------------------------------------------------------------

    def read_table(self, table: Table, titles: set[str]) -> Block | None:
        """The cells of ``table`` (header row first), its sheet, header row and first column.

        An Excel Table of the table's name is read by its range; otherwise a plain range on a
        sheet titled like the table, by its header row. None when the workbook has neither.
        """
        found = self.tables.get(table.name.casefold())
        if found is not None:
            self._check_cells(found.name, found)
            f = found
            block = self.cells(f.sheet, f.min_row, f.min_col, f.max_row, f.max_col)
            self._release(f.sheet)
            return block, found.sheet, found.min_row, found.min_col
        for sheet in self._titled(titles):
            job = self._sheet(sheet)
            head = job.cells(1, 1, HEADER_SEARCH_ROWS, job.width())
            for r, header in enumerate(head.tolist(), 1):
                cols, _ = map_headers([None if v == "" else v for v in header], table)
                if len(cols) >= max(2, sum(c.required for c in table.columns)):
                    first, last = min(cols) + 1, max(cols) + 1
                    area = TableRange(sheet, sheet, r, first, max(job.height(), r), last)
                    self._check_cells(f"{sheet}!{r}", area)
                    block = job.cells(r, first, area.max_row, last)
                    self._release(sheet)
                    return block, sheet, r, first
        return None

    def _release(self, sheet: str) -> None:
        """Let a big sheet's parsed cells go once a table is read from it (a 100,000-line
        sheet holds ~200 MB in calamine); small sheets stay for their other tables."""
        job = self._sheets.get(sheet)
        if job is not None and job.height() * job.width() > 1_000_000:
            del self._sheets[sheet]

    def _check_cells(self, where: str, found: TableRange) -> None:
        cells = (found.max_row - found.min_row + 1) * (found.max_col - found.min_col + 1)
        if cells > self.pkg.limits.cells:
            raise cells_over_limit(self.label, where, cells, self.pkg.limits)


def _unreadable(label: str, exc: BaseException) -> FileRefused:
    return FileRefused(
        f"无法读取工作簿（不是有效的 .xlsx，或已加密）: {label}",
        f"cannot read the workbook (not a valid .xlsx, or encrypted): {label}: {exc}",
    )


class _SheetJob:
    """One sheet parsed by calamine in the worker thread (calamine releases the GIL, so the
    parse overlaps whatever the main thread does meanwhile)."""

    def __init__(self, pool: Any, book: Any, name: str, label: str) -> None:
        self.name, self.label = name, label
        self._future = pool.submit(book.get_sheet_by_name, name)

    def result(self) -> Any:
        try:
            return self._future.result()
        except Exception as exc:  # calamine's own error types
            raise _unreadable(self.label, exc) from exc

    def height(self) -> int:
        """Rows from row 1 to the sheet's last used row."""
        sheet = self.result()
        return int(sheet.end[0]) + 1 if sheet.end is not None else 0

    def width(self) -> int:
        """Columns from column A to the sheet's last used column."""
        sheet = self.result()
        return int(sheet.end[1]) + 1 if sheet.end is not None else 0

    def cells(self, r1: int, c1: int, r2: int, c2: int) -> np.ndarray:
        """Rows ``r1:r2``, columns ``c1:c2`` (1-based, inclusive), blanks ``""``; the part
        beyond the sheet's used range is blank. Only these cells become Python values."""
        sheet = self.result()
        out = np.full((max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)), "", dtype=object)
        if sheet.end is None or not out.size:
            return out
        # iter_rows() yields rows from row 1, each from the used range's first column
        first_col = int(sheet.start[1])
        lo = max(c1 - 1 - first_col, 0)
        hi = max(c2 - first_col, 0)
        skip = max(first_col - (c1 - 1), 0)  # blank columns before the used range
        try:
            for i, row in enumerate(sheet.iter_rows()):
                at = i + 1  # sheet row of this row
                if at < r1:
                    continue
                if at > r2:
                    break
                part = row[lo:hi]
                out[at - r1, skip : skip + len(part)] = part
        except Exception as exc:
            raise _unreadable(self.label, exc) from exc
        return out
