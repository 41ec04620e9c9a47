"""The catalog of every sheet and table, joined from the capabilities' declarations."""

from __future__ import annotations

from xlplan import reference
from xlplan.kpi import sheets as kpi_sheets
from xlplan.kpi import tables as kpi_tables
from xlplan.landed_cost import tables as landed_cost_tables
from xlplan.maps import tables as maps_tables
from xlplan.plan import tables as plan_tables
from xlplan.planning import tables as planning_tables
from xlplan.supply import sheets as supply_sheets
from xlplan.supply import tables as supply_tables
from xlplan.workbook.catalog import Catalog, Part
from xlplan.workbook.render import LISTS_SHEET


def _reference_lists() -> dict[str, list[str]]:
    return {
        "markets": sorted(set(reference.market_history()["market"])),
        "currencies": sorted(set(reference.currencies().index.astype(str))),
        "channels": list(reference.CHANNELS),
    }


CATALOG = Catalog.of(
    [
        Part(
            sheets=(plan_tables.README_SHEET, plan_tables.SETTINGS_SHEET, LISTS_SHEET),
            tables=(plan_tables.SETTINGS, plan_tables.FX),
            lists={**_reference_lists(), **plan_tables.LISTS},
        ),
        Part(
            sheets=landed_cost_tables.SHEETS,
            tables=landed_cost_tables.TABLES,
            lists=landed_cost_tables.LISTS,
        ),
        Part(sheets=maps_tables.SHEETS, tables=maps_tables.TABLES),
        Part(sheets=planning_tables.SHEETS, tables=planning_tables.TABLES),
        Part(
            sheets=supply_tables.SHEETS,
            tables=supply_tables.TABLES,
            lists=supply_tables.LISTS,
            writers=supply_sheets.WRITERS,
        ),
        Part(sheets=kpi_tables.SHEETS, tables=kpi_tables.TABLES, writers=kpi_sheets.WRITERS),
    ]
)
"""Every sheet and table XLPlan reads or writes, the validation lists, the sheet writers."""
