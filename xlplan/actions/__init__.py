"""The macros: each ribbon button and each ``xlplan run --action`` is one action.

An action takes a workbook port and a context, reads tables, calls domain code and writes its
output tables. Two ports implement :class:`WorkbookPort`: the file port
(:class:`xlplan.workbook.io.FilePort`, headless) and the live port (``udfs.live``, an open
Excel workbook). Actions are registered by name in :data:`ACTIONS` (one module per area
registers its own); the ribbon, the CLI and the tests reach them only through it.
"""

# Importing an area's module registers its actions; the order here is the order of "run every
# action" (dependencies first): landed cost, the three maps, alignment to tracking, KPIs.
from xlplan.actions import check, landed_cost  # noqa: F401  # isort: skip
from xlplan.actions import maps  # noqa: F401  # isort: skip
from xlplan.actions import planning  # noqa: F401  # isort: skip
from xlplan.actions import kpi  # noqa: F401  # isort: skip
from xlplan.actions import relink  # noqa: F401  # isort: skip
from xlplan.actions.landed_cost import landed_cost_results, run_landed_cost
from xlplan.actions.planning import read_alignment, run_align, run_split, run_track
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
