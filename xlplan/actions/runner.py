"""The one runner the command line, the ribbon and the demo share.

A run reads the Settings once, orders the actions by the tables they exchange (an action runs
after every action that produces a table it ``needs`` or ``reads``), runs them through one port
and collects what each reported. Requested actions whose ``needs`` the workbook lacks bring
their producers with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from xlplan.core.errors import (
    FileError,
    FileRefused,
    InputError,
    Message,
    TemplateError,
    concat_errors,
    empty_errors,
    errors_where,
)
from xlplan.plan.action import Action, ActionResult, Context, WorkbookPort
from xlplan.plan.read import read_plan_settings

SETTINGS_STEP = Message("设置", "Settings")


def _producers(actions: Mapping[str, Action]) -> dict[str, list[str]]:
    """Table key -> the actions that write it (the maps share their proposals table, each
    replacing its own rows)."""
    out: dict[str, list[str]] = {}
    for act in actions.values():
        for key in act.produces:
            out.setdefault(key, []).append(act.name)
    return out


def _empty(frame: pd.DataFrame | None) -> bool:
    if frame is None or frame.empty:
        return True
    return bool(frame.isna().all().all())


def plan_run(
    actions: Mapping[str, Action],
    names: Sequence[str] | None = None,
    port: WorkbookPort | None = None,
) -> list[Action]:
    """The actions to run, in order.

    Without ``names``: every action that is not standalone. With ``names``: those, plus the
    producers of tables they ``need`` that ``port`` holds no rows of. Order: an action comes
    after the producers of every table it ``needs`` or ``reads``; otherwise the order of
    ``actions``. A cycle is a fault of the declarations.
    """
    unknown = [n for n in names or () if n not in actions]
    if unknown:
        available = ", ".join(actions)
        raise InputError(
            f"未知的操作: {', '.join(unknown)}（可用: {available}）",
            f"unknown action: {', '.join(unknown)} (available: {available})",
        )
    producers = _producers(actions)
    wanted = [a for a in actions if not actions[a].standalone] if not names else list(names)
    todo = list(dict.fromkeys(wanted))
    i = 0
    while i < len(todo):  # pull in producers of missing needs, transitively
        for key in actions[todo[i]].needs:
            missing = [p for p in producers.get(key, []) if p not in todo]
            if missing and (port is None or _empty(port.read_table(key))):
                todo.extend(missing)
        i += 1
    chosen = set(todo)
    rank = {name: k for k, name in enumerate(actions)}
    after: dict[str, set[str]] = {
        name: {
            producer
            for key in (*actions[name].needs, *actions[name].reads)
            for producer in producers.get(key, [])
            if producer in chosen and producer != name
        }
        for name in chosen
    }
    ordered: list[Action] = []
    done: set[str] = set()
    while len(done) < len(chosen):
        ready = sorted((n for n in chosen - done if after[n] <= done), key=rank.__getitem__)
        if not ready:
            raise TemplateError(f"actions depend on each other in a cycle: {sorted(chosen - done)}")
        ordered.append(actions[ready[0]])
        done.add(ready[0])
    return ordered


@dataclass
class Step:
    """One step of a run: the action (None for reading the Settings) and what it reported."""

    action: Action | None
    result: ActionResult

    @property
    def label(self) -> Message:
        return SETTINGS_STEP if self.action is None else self.action.label


@dataclass
class RunReport:
    """Every step of a run, in order."""

    steps: list[Step] = field(default_factory=list)

    @property
    def errors(self) -> pd.DataFrame:
        return concat_errors(s.result.errors for s in self.steps) if self.steps else empty_errors()

    @property
    def failed(self) -> bool:
        return any(len(s.result.errors) for s in self.steps)

    @property
    def summary(self) -> list[Message]:
        return [line for s in self.steps for line in s.result.summary]

    def written(self, port: object) -> Mapping[str, pd.DataFrame]:
        """The tables a file port collected (empty for ports that write as they go)."""
        return getattr(port, "written", {})


Progress = Callable[[int, int, Message], None]
"""Called before each action: (number, count, label)."""


def context(port: WorkbookPort, today: date) -> tuple[Context, pd.DataFrame]:
    """The run's context: the Settings read once (and their errors)."""
    settings, errors = read_plan_settings(port, today)
    return Context(today=today, settings=settings), errors


def run_actions(
    actions: Mapping[str, Action],
    port: WorkbookPort,
    today: date,
    names: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> RunReport:
    """Run the planned actions through ``port``; the Settings are read once, first."""
    ctx, setting_errors = context(port, today)
    report = RunReport([Step(None, ActionResult(setting_errors))])
    todo = plan_run(actions, names, port)
    for i, act in enumerate(todo, 1):
        if progress is not None:
            progress(i, len(todo), act.label)
        try:
            result = act.run(port, ctx)
        except (FileError, FileRefused):
            raise  # the file itself cannot be read: no action can run
        except InputError as exc:
            # a table this action needs is unusable (missing, a required column renamed): the
            # action reports it and the others, which do not need that table, still run
            result = ActionResult(workbook_error(exc.message))
        report.steps.append(Step(act, result))
    return report


def workbook_error(message: Message) -> pd.DataFrame:
    """A problem of the whole workbook (a missing table, a renamed header): no cell of its own,
    the message says where."""
    return errors_where(np.array([True]), table="", column="", zh=message.zh, en=message.en)
