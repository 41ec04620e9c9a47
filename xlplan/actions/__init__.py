"""The composition of the capabilities' actions: the registry and the one runner.

Every ribbon button and every ``xlplan run --action NAME`` is one action. Each capability
lists its actions; :data:`ACTIONS` joins them (this order is the tie-break of a run's order,
which otherwise follows the tables the actions exchange: :func:`plan_run`). Validate and Relink
work on the whole workbook and are run only when named.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from xlplan.actions.catalog import CATALOG
from xlplan.actions.check import check_result, make_check
from xlplan.actions.relink import RELINK
from xlplan.actions.runner import Progress, RunReport, Step, context, plan_run, run_actions
from xlplan.kpi import action as kpi_action
from xlplan.landed_cost import action as landed_cost_action
from xlplan.maps import action as maps_action
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.planning import action as planning_action
from xlplan.supply import action as supply_action

_CAPABILITIES: tuple[Action, ...] = (
    *landed_cost_action.ACTIONS,
    *maps_action.ACTIONS,
    *planning_action.ACTIONS,
    *supply_action.ACTIONS,
    *kpi_action.ACTIONS,
)

ACTIONS: dict[str, Action] = {a.name: a for a in _CAPABILITIES}
CHECKED = dict(ACTIONS)
ACTIONS["check"] = make_check(CHECKED)
ACTIONS["relink"] = RELINK


def ordered(names: Sequence[str] | None = None) -> list[Action]:
    """The actions a run of ``names`` (default: all) performs, in order."""
    return plan_run(ACTIONS, names)


def inputs(names: Sequence[str] | None = None) -> list[str]:
    """The workbook tables a run of ``names`` (default: all) reads, as its actions declare
    them (:attr:`Action.inputs`), each once: what a file port starts reading up front."""
    return list(dict.fromkeys(key for act in ordered(names) for key in act.inputs))


def run(
    port: WorkbookPort,
    today: date,
    names: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> RunReport:
    """Run ``names`` (default: every action) through ``port``."""
    return run_actions(ACTIONS, port, today, names, progress=progress)


def validate(port: WorkbookPort, today: date, *, progress: Progress | None = None) -> RunReport:
    """What ``xlplan check`` runs: the Validate action, ``progress`` hearing of each action it
    dry-runs (the same result as ``run(port, today, ["check"])``)."""
    ctx, setting_errors = context(port, today)
    return RunReport(
        [
            Step(None, ActionResult(setting_errors)),
            Step(ACTIONS["check"], check_result(CHECKED, port, ctx, progress)),
        ]
    )


__all__ = [
    "ACTIONS",
    "CATALOG",
    "Action",
    "ActionResult",
    "Context",
    "RunReport",
    "Step",
    "WorkbookPort",
    "context",
    "inputs",
    "ordered",
    "run",
    "validate",
]
