"""The macros: each ribbon button and each ``xlplan run --action`` is one action.

An action takes a workbook port and a context, reads tables, calls domain code and writes its
output tables. Two ports implement :class:`WorkbookPort`: the file port
(:class:`xlplan.workbook.io.FilePort`, headless) and the live port (``udfs.live``, an open
Excel workbook). Actions are registered by name in :data:`ACTIONS`; the ribbon, the CLI and the
tests reach them only through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from xlplan.core.errors import ErrorRecord, InputError, empty_errors


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
    """What an action knows besides the workbook: today's date, from the edge."""

    today: date


@dataclass
class ActionResult:
    """Errors found (records, see :mod:`xlplan.errors`) and summary lines for the user."""

    errors: pd.DataFrame = field(default_factory=empty_errors)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) lines


ActionFunc = Callable[[WorkbookPort, Context], ActionResult]


@dataclass(frozen=True)
class Action:
    name: str
    zh: str
    en: str
    run: ActionFunc
    after: tuple[str, ...] = ()
    standalone: bool = False  # run only when named (Validate), not by "run every action"


ACTIONS: dict[str, Action] = {}


def action(
    name: str, zh: str, en: str, after: tuple[str, ...] = (), standalone: bool = False
) -> Callable[[ActionFunc], ActionFunc]:
    """Register an action under ``name`` (the ribbon button's tag)."""

    def register(func: ActionFunc) -> ActionFunc:
        ACTIONS[name] = Action(name, zh, en, func, after, standalone)
        return func

    return register


def ordered(names: list[str] | None = None) -> list[Action]:
    """Actions to run, each after those it depends on; all of them when ``names`` is None."""
    wanted = [a.name for a in ACTIONS.values() if not a.standalone] if not names else names
    unknown = [n for n in wanted if n not in ACTIONS]
    if unknown:
        raise InputError(
            f"未知的操作: {', '.join(unknown)}（可用: {', '.join(ACTIONS)}）",
            f"unknown action: {', '.join(unknown)} (available: {', '.join(ACTIONS)})",
        )
    out: list[Action] = []

    def visit(name: str) -> None:
        if any(a.name == name for a in out):
            return
        for dep in ACTIONS[name].after:
            if dep in wanted:
                visit(dep)
        out.append(ACTIONS[name])

    for n in wanted:
        visit(n)
    return out
