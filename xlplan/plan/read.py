"""Reading the plan-wide tables: the Settings sheet into :class:`PlanSettings`, the FX table."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from xlplan.core.errors import empty_errors
from xlplan.plan.action import WorkbookPort
from xlplan.plan.settings import PlanSettings, default_settings
from xlplan.plan.tables import FX, SETTING_KINDS, SETTING_LABELS, SETTINGS
from xlplan.workbook.coerce import coerce_table, good_rows
from xlplan.workbook.keyvalue import KeySpec, read_model

SETTING_SPECS: dict[str, KeySpec] = {
    key: KeySpec(SETTING_KINDS[key], (key,), SETTING_LABELS[key]) for key in SETTING_LABELS
}


def plan_settings(raw: pd.DataFrame | None, today: date) -> tuple[PlanSettings, pd.DataFrame]:
    """The Settings table as :class:`PlanSettings` and its error records.

    A workbook without a Settings table plans next year with today's rules
    (:func:`default_settings`); with one, a blank plan year is next year and a blank rules date
    1 January of the plan year.
    """
    if raw is None:
        return default_settings(today), empty_errors()
    defaults: dict[str, Any] = {"plan_year": today.year + 1}
    settings, _, errors = read_model(
        raw, SETTINGS.key, SETTING_SPECS, lambda tree: PlanSettings(**tree), defaults
    )
    return settings, errors


def read_plan_settings(port: WorkbookPort, today: date) -> tuple[PlanSettings, pd.DataFrame]:
    """:func:`plan_settings` of the port's Settings table."""
    return plan_settings(port.read_table(SETTINGS.key), today)


def fx_table(raw: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The FX table's good rows, typed (``from_currency, to_currency, rate``...), and the error
    records of the others; None without a table."""
    if raw is None:
        return None, empty_errors()
    typed, errors = coerce_table(raw, FX)
    return good_rows(typed, errors), errors


def read_fx(port: WorkbookPort) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """:func:`fx_table` of the port's FX table."""
    return fx_table(port.read_table(FX.key))
