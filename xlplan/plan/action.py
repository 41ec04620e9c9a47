"""The action contract every capability implements: a workbook port in, a result out.

An action (a ribbon button, ``xlplan run --action NAME``) reads tables through a
:class:`WorkbookPort`, calls its capability's calculators and writes its output tables. Two ports
implement the protocol: the file port (:class:`xlplan.workbook.io.FilePort`, headless) and the live
port (``udfs.live``, an open Excel workbook). Each capability lists its actions in its ``action``
module; :mod:`xlplan.actions` collects them and orders a run by what each one ``needs`` and
``produces``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from xlplan.core.errors import ErrorRecord, Message, empty_errors
from xlplan.plan.settings import PlanSettings


class WorkbookPort(Protocol):
    """What an action may do to a workbook."""

    def read_table(self, key: str) -> pd.DataFrame | None:
        """The table's raw cells by column key, or None when the workbook lacks it."""

    def write_table(self, key: str, frame: pd.DataFrame) -> None:
        """Replace the content of an output table XLPlan owns."""

    def locate(self, record: ErrorRecord) -> str:
        """Where an error record points, in the user's terms (``Sheet!D7``)."""


@dataclass(frozen=True)
class Context:
    """What an action knows besides the workbook: today's date (from the edge) and the plan's
    settings, read once per run.

    ``dry_run`` is Validate's run (:mod:`xlplan.actions.check`): the action reports everything
    it would reject, through its own code, and may stop after its last check, leaving out the
    output tables no action reports a problem from (Validate writes nothing). An action that
    reads such a table from another one then stops before reading it too (the KPI action
    reads the Stock and Cash Plans only for the Dashboard), so a dry run and a run find the
    same problems.
    """

    today: date
    settings: PlanSettings
    dry_run: bool = False


@dataclass
class ActionResult:
    """Errors found (records, see :mod:`xlplan.core.errors`) and summary lines for the user."""

    errors: pd.DataFrame = field(default_factory=empty_errors)
    summary: list[Message] = field(default_factory=list)


ActionFunc = Callable[[WorkbookPort, Context], ActionResult]


@dataclass(frozen=True)
class Action:
    """One action: its name (the ribbon button's tag), label, and the tables it exchanges.

    ``needs``: tables another action produces that this one cannot do without; a run that
    includes this action and finds such a table empty runs its producer first.
    ``reads``: tables another action produces that this one shows when they are there (only
    the order of a run depends on them). ``produces``: the output tables it writes.
    ``standalone`` actions (Validate, Relink) run only when named. ``inputs``: the tables of
    the user's workbook it reads, started reading in the background before a run (the
    smallest first: ``FilePort.prefetch``).
    """

    name: str
    label: Message
    run: ActionFunc
    produces: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    standalone: bool = False
    help: Message = Message("", "")
    inputs: tuple[str, ...] = ()
