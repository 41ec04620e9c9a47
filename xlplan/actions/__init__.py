"""The macros: each ribbon button and each ``xlplan run --action`` is one action.

An action takes a workbook port and a context, reads tables, calls domain code and writes its
output tables. Two ports implement :class:`WorkbookPort`: the file port
(:class:`xlplan.workbook.io.FilePort`, headless) and the live port (``udfs.live``, an open
Excel workbook). Actions are registered by name in :data:`ACTIONS` (one module per area
registers its own); the ribbon, the CLI and the tests reach them only through it.
"""

# Importing an area's module registers its actions; the order here is the order of "run every
# action" (dependencies first): landed cost, the three maps, alignment to tracking, KPIs.
from xlplan.actions import check  # noqa: F401  # isort: skip
from xlplan.landed_cost import action as _lc  # noqa: F401  # isort: skip
from xlplan.maps import action as _maps  # noqa: F401  # isort: skip
from xlplan.planning import action as _planning  # noqa: F401  # isort: skip
from xlplan.kpi import action as _kpi  # noqa: F401  # isort: skip
from xlplan.actions import relink  # noqa: F401  # isort: skip
from xlplan.actions.registry import (
    ACTIONS,
    Action,
    ActionResult,
    Context,
    WorkbookPort,
    action,
    ordered,
)
from xlplan.actions.settings import (
    plan_year,
    read_rules,
    read_rules_date,
    read_settings,
    rules_from_tables,
)
from xlplan.landed_cost.action import landed_cost_results, run_landed_cost
from xlplan.planning.action import read_alignment, run_align, run_split, run_track

__all__ = [
    "ACTIONS",
    "Action",
    "ActionResult",
    "Context",
    "WorkbookPort",
    "action",
    "landed_cost_results",
    "ordered",
    "plan_year",
    "read_alignment",
    "read_rules",
    "read_rules_date",
    "read_settings",
    "rules_from_tables",
    "run_align",
    "run_landed_cost",
    "run_split",
    "run_track",
]
