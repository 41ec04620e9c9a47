"""How the stock and cash sheets look."""

from __future__ import annotations

from xlplan.workbook.catalog import SheetWriter

WRITERS: dict[str, SheetWriter] = {}
