"""The catalog: every sheet and table a workbook may hold, the validation lists their columns
name, and the writers of owned sheets that draw more than tables (charts, special formats).

Each capability declares its part (its ``tables`` and ``sheets`` modules); the composition root
(:mod:`xlplan.actions`) joins them into one :class:`Catalog`, which the ports use to find tables
in a workbook and to draw the sheets an action wrote. Nothing here imports a capability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlplan.core.errors import Lang
from xlplan.workbook.schema import Sheet, Table, normalise_header

SheetWriter = Callable[[Any, Any, Sequence[tuple[Table, pd.DataFrame | None]], str], Any]
"""``(workbook, formats, [(table, frame)], lang) -> worksheet``: draws one owned sheet."""


@dataclass(frozen=True)
class Part:
    """What one capability contributes to the catalog."""

    sheets: Sequence[Sheet] = ()
    tables: Sequence[Table] = ()
    lists: Mapping[str, Sequence[str]] = field(default_factory=dict)
    writers: Mapping[str, SheetWriter] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """Sheets and tables by key, validation lists by name, writers by sheet key."""

    sheets: Mapping[str, Sheet]
    tables: Mapping[str, Table]
    lists: Mapping[str, Sequence[str]]
    writers: Mapping[str, SheetWriter]

    @classmethod
    def of(cls, parts: Iterable[Part]) -> Catalog:
        """Join the parts; a key declared twice is a fault (reading would be ambiguous)."""
        sheets: dict[str, Sheet] = {}
        tables: dict[str, Table] = {}
        lists: dict[str, Sequence[str]] = {}
        writers: dict[str, SheetWriter] = {}
        for part in parts:
            for sheet in part.sheets:
                _add(sheets, sheet.key, sheet, "sheet")
            for table in part.tables:
                _add(tables, table.key, table, "table")
            for name, values in part.lists.items():
                _add(lists, name, values, "list")
            for key, writer in part.writers.items():
                _add(writers, key, writer, "writer")
        missing = sorted({t.sheet for t in tables.values()} - set(sheets))
        if missing:
            raise ValueError(f"tables on undeclared sheets: {missing}")
        return cls(sheets, tables, lists, writers)

    def input_tables(self) -> list[Table]:
        """The tables users fill: those on sheets XLPlan does not own."""
        return [t for t in self.tables.values() if not self.sheets[t.sheet].owned]

    def sheet_titles(self, table: Table) -> set[str]:
        """Normalised titles a plain-range table may be found under: its sheet's and its own,
        in both languages."""
        sheet = self.sheets.get(table.sheet)
        names = [table.title(lang) for lang in Lang]
        if sheet is not None:
            names += [sheet.title(lang) for lang in Lang]
        return {normalise_header(n) for n in names}

    def lang_of(self, sheet_names: Iterable[str]) -> Lang:
        """``zh`` when any of the workbook's sheet names is one of XLPlan's Chinese ones."""
        zh = {s.zh for s in self.sheets.values()}
        return Lang.ZH if set(sheet_names) & zh else Lang.EN


def _add(registry: dict[str, Any], key: str, item: object, what: str) -> None:
    if key in registry and registry[key] is not item:
        raise ValueError(f"{what} {key!r} is declared twice")
    registry[key] = item
