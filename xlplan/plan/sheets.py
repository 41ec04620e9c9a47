"""The Settings sheet: the plan settings (with the defined names the live formulas use), the FX
table, and the rule-override tables capabilities put below them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from xlplan import reference
from xlplan.core.errors import Lang
from xlplan.plan.settings import PlanSettings
from xlplan.plan.tables import FX, SETTING_LABELS, SETTINGS, SETTINGS_SHEET
from xlplan.workbook.render import (
    Formats,
    cell_ref,
    page_setup,
    write_note,
    write_table,
    write_title,
)
from xlplan.workbook.schema import Kind, Table

EXCEL_EPOCH = datetime(1899, 12, 30)


def setting_name(key: str) -> str:
    """The defined name of a Settings value: ``rules_date`` -> ``RulesDate``."""
    return "".join(part.capitalize() for part in key.split("_"))


def settings_frame(lang: str, settings: PlanSettings) -> pd.DataFrame:
    """The Settings table's rows for ``settings``: one per key, its value and description.

    The rules date is left blank: the sheet computes it from the plan year (a formula), which
    is what a blank rules date means. The as-of date is written as ISO text (``2026-11-15``).
    """
    values = settings.model_dump()
    shown = {
        **values,
        "rules_date": None,
        "reconcile_method": settings.reconcile_method.value,
        "as_of": None if settings.as_of is None else settings.as_of.isoformat(),
    }
    return pd.DataFrame(
        {
            "setting": list(SETTING_LABELS),
            "value": [shown[k] for k in SETTING_LABELS],
            "label": [SETTING_LABELS[k].text(lang) for k in SETTING_LABELS],
        }
    )


def template_fx() -> pd.DataFrame:
    """The FX rows a new plan starts with: the shipped defaults for market currencies."""
    fx = reference.default_fx()
    wanted = set(reference.market_history()["currency"]) | {"CNY", "USD"}
    fx = fx[fx["from_currency"].isin(wanted) & (fx["from_currency"] != fx["to_currency"])]
    return fx.sort_values("from_currency")[FX.keys].reset_index(drop=True)


def write_settings_sheet(
    wb: Any,
    fmt: Formats,
    lang: str,
    settings: PlanSettings,
    fx: pd.DataFrame | None,
    more: Sequence[tuple[Table, pd.DataFrame | None]] = (),
) -> Any:
    """The Settings sheet: plan settings, then the FX table, then ``more`` tables (the
    capabilities' rule overrides). Each setting value gets a defined name (``PlanYear``...)."""
    ws = wb.add_worksheet(SETTINGS_SHEET.title(lang))
    write_title(ws, fmt, lang, SETTINGS_SHEET.heading, SETTINGS_SHEET.note)
    top = 5
    _, last = write_table(
        wb, ws, fmt, SETTINGS, settings_frame(lang, settings), lang, top, 0, validation=False
    )
    keys = list(SETTING_LABELS)
    year_cell = cell_ref(top + 1 + keys.index("plan_year"), 1, True, True)
    ws.write_formula(
        top + 1 + keys.index("rules_date"),
        1,
        f"=DATE({year_cell},1,1)",
        fmt.kinds[Kind.DATE],
        (datetime(settings.plan_year, 1, 1) - EXCEL_EPOCH).days,
    )
    sheet = ws.get_name()
    for i, key in enumerate(keys):
        wb.define_name(setting_name(key), f"='{sheet}'!{cell_ref(top + 1 + i, 1, True, True)}")
    for table, frame in ((FX, fx), *more):
        top = last + 5
        ws.write_string(top - 3, 0, table.title(lang), fmt.section)
        _, last = write_table(wb, ws, fmt, table, frame, lang, top, 0)
        write_note(ws, fmt, top - 2, 0, table.help(Lang(lang)), len(table.columns))
    fmt.fit_column(ws, 1, 16)
    fmt.fit_column(ws, 2, 40)
    page_setup(ws, fmt, header_row=top)
    return ws
